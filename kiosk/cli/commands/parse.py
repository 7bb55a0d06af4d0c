"""`kiosk parse [--json] PAYLOAD`: what a scanned payload says, or why it is refused."""

from __future__ import annotations

import os
import sys

from kiosk import documents
from kiosk.cli import add_json
from kiosk.errors import UsageError
from kiosk.masking import mask_id


def register(sub) -> None:
    p = sub.add_parser("parse", help="parse a scanned payload (CCCD QR, BHYT QR, ID-card MRZ) and print it",
                       description="Parse a payload exactly as the kiosk does for a scan. Readable output masks "
                                   "ID and card numbers; --json gives every field in full.")
    p.add_argument("payload", metavar="PAYLOAD", help="the scanned text; '-' reads raw bytes from stdin "
                   "(decoded as UTF-8, never guessed)")
    add_json(p)
    p.set_defaults(func=parse_cmd)


def parse_cmd(ctx) -> int:
    raw = sys.stdin.buffer.read(documents.MAX_PAYLOAD + 1) if ctx.args.payload == "-" else \
        os.fsencode(ctx.args.payload)  # argv bytes as they were given (invalid UTF-8 stays invalid)
    try:
        doc = documents.parse(raw)
    except documents.ParseError as e:
        raise UsageError(str(e)) from None
    ctx.emit(doc.to_json(), lambda: summary(doc))
    return 0


def summary(doc) -> str:
    """Readable, with ID and card numbers masked to their last 4 characters."""
    k = doc.kind
    if k == "cccd_qr":
        title = "CCCD / Căn cước QR"
        rows = [("ID number", mask_id(doc.id_number)), ("old ID number", mask_id(doc.old_id_number) or "-"),
                ("full name", doc.full_name), ("date of birth", doc.date_of_birth), ("sex", doc.sex),
                ("address", doc.address or "-"), ("issue date", doc.issue_date)]
        if doc.extra_fields:
            rows.append(("extra fields", f"{len(doc.extra_fields)} kept raw (see --json)"))
    elif k == "bhyt_qr":
        title = f"BHYT QR ({'16 fields, card from April 2021' if doc.layout == 'new' else '14 fields, old card'})"
        rows = [("card number", mask_id(doc.card_number)),
                ("group / level", f"{doc.beneficiary_group or '-'} / {doc.benefit_level or '-'}"),
                ("province", doc.province_code or "-"), ("BHXH number", mask_id(doc.social_insurance_number)),
                ("full name", doc.full_name), ("date of birth", doc.date_of_birth), ("sex", doc.sex),
                ("address", doc.address or "-"), ("facility", doc.facility_code),
                ("valid", f"{doc.valid_from} → {doc.valid_to or 'no end date'}"), ("issue date", doc.issue_date),
                ("management code", mask_id(doc.management_code)), ("guardian", doc.guardian_name or "-"),
                ("living area", doc.living_area or "-"), ("5 years since", doc.five_year_date or "-"),
                ("check string", "present, not verifiable offline"), ("issuing place", doc.issuing_place or "-")]
    else:
        title = "ID card MRZ (TD1)"
        rows = [("document number", mask_id(doc.document_number)), ("ID number", mask_id(doc.id_number) or "-"),
                ("surname", doc.surname), ("given names", doc.given_names or "-"),
                ("date of birth", doc.date_of_birth), ("sex", doc.sex or "-"),
                ("expiry", doc.expiry_date or "valid for life"), ("check digits", "all correct")]
    rows.append(("warnings", ", ".join(doc.warnings) or "none"))
    width = max(len(r[0]) for r in rows)
    return "\n".join([title] + [f"  {name:<{width}}  {value}" for name, value in rows])
