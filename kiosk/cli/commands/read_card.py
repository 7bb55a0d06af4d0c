"""`kiosk read-card`: open the CCCD chip on a PC/SC reader, read it and say whether it is genuine."""

from __future__ import annotations

import logging
import re
import sys
import time

from kiosk.cli import add_json, parse_date, ascii_float, ascii_int
from kiosk.errors import KioskError, UnavailableError, UsageError
from kiosk.logs import event as log_event
from kiosk.masking import mask_id
from kiosk.text import both

log = logging.getLogger(__name__)


def register(sub) -> None:
    p = sub.add_parser("read-card", help="read the chip of a CCCD card on the PC/SC reader (PACE or BAC), "
                       "check it is genuine")
    p.add_argument("--reader", metavar="NAME", help="reader whose name contains NAME (default: reader.name)")
    key = p.add_mutually_exclusive_group(required=True)
    key.add_argument("--id-number", metavar="ID", help="the 12-digit ID number (from the card's QR): "
                     "PACE with its last 6 digits as CAN, BAC too when --date-of-birth is given")
    key.add_argument("--can", metavar="CAN", help="the 6-digit card access number")
    key.add_argument("--mrz", metavar="TEXT", help="the three TD1 MRZ lines (newline separated) or one "
                     "90-character string")
    p.add_argument("--date-of-birth", metavar="YYYY-MM-DD", help="with --id-number: allows BAC on chips "
                   "without PACE (expiry dates are tried from the card's validity rules)")
    p.add_argument("--photo", action="store_true", help="also read DG2 (the face photo) into memory and "
                   "report its size and format; it is never written to disk")
    p.add_argument("--csca-dir", metavar="DIR", help="trusted CSCA certificates (default: reader.csca_dir)")
    p.add_argument("--extended", choices=["auto", "yes", "no"],
                   help="extended-length APDUs (default: reader.extended_length)")
    p.add_argument("--wait", type=ascii_float, metavar="SECONDS",
                   help="how long to wait for the card to be placed (again) (default: reader.card_wait_seconds)")
    p.add_argument("--retries", type=ascii_int, default=2, metavar="N",
                   help="read again this many times when the card leaves the reader mid-read (default 2)")
    add_json(p)
    p.set_defaults(func=read_card)


def mrz_credentials(text: str) -> tuple[str, str, str]:
    # drivers.chip needs the optional `chip` extra (pyscard, ecdsa): imported by the commands that read a card.
    from drivers.chip.crypto import check_digit
    flat = re.sub(r"\s+", "", text.upper())
    if len(flat) != 90 or not re.fullmatch(r"[A-Z0-9<]{90}", flat):
        raise UsageError(f"--mrz: expected three 30-character TD1 lines (90 characters of A-Z, 0-9, <), "
                         f"got {len(flat)}")
    l1, l2 = flat[:30], flat[30:60]
    doc, dob, exp = l1[5:14], l2[0:6], l2[8:14]
    for name, value, cd in (("document number", doc, l1[14]), ("date of birth", dob, l2[6]),
                            ("expiry date", exp, l2[14])):
        if check_digit(value) != cd:
            raise UsageError(f"--mrz: the check digit of the {name} is wrong (a mistyped character?)")
    return doc.rstrip("<"), dob, exp


def credentials(args):
    from drivers.chip.reader import Credentials  # the `chip` extra, as above
    dob = parse_date(args.date_of_birth, "--date-of-birth") if args.date_of_birth else None
    if args.id_number:
        if not re.fullmatch(r"[0-9]{12}", args.id_number, re.ASCII):
            raise UsageError("--id-number: expected the 12 digits of the ID number")
        return Credentials(id_number=args.id_number, date_of_birth=dob)
    if dob:
        raise UsageError("--date-of-birth goes with --id-number")
    if args.can:
        if not re.fullmatch(r"[0-9]{6}", args.can, re.ASCII):
            raise UsageError("--can: expected 6 digits")
        return Credentials(can=args.can)
    return Credentials(mrz=mrz_credentials(args.mrz))


def read_card(ctx) -> int:
    try:
        # pyscard and the chip stack: the `chip` extra
        from drivers.chip.connection import PcscConnection
        from drivers.chip.errors import AccessDenied, CardRemoved, ChipError, ReaderUnavailable, WrongNumber
        from drivers.chip.passive import load_trust_store
        from drivers.chip.reader import ChipReader
    except ImportError as e:
        raise UnavailableError(f"chip reading needs the 'chip' extra ({e.name} is not installed)") from None
    args, cfg = ctx.args, ctx.config
    creds = credentials(args)
    reader_name = args.reader if args.reader is not None else cfg["reader.name"]
    wait = args.wait if args.wait is not None else cfg["reader.card_wait_seconds"]
    trust = load_trust_store(args.csca_dir or cfg["reader.csca_dir"])
    extended = args.extended or cfg["reader.extended_length"]
    attempt = 0
    while True:
        attempt += 1
        conn = None
        try:
            conn = PcscConnection(reader_name, wait_seconds=wait if attempt > 1 else min(wait, 2.0))
            result = ChipReader(conn, extended=extended).read_identity(creds, photo=args.photo, trust=trust)
            break
        except AccessDenied as e:
            log_event(log, "chip_read_refused", logging.WARNING, reason="access_denied")
            if isinstance(e, WrongNumber):
                raise UsageError("the number does not open this card — check the ID number / CAN / MRZ "
                                 "(a chip without PACE also needs --date-of-birth or --mrz)") from None
            raise UsageError(str(e)) from None
        except CardRemoved:
            log_event(log, "chip_read_interrupted", logging.WARNING, attempt=attempt)
            if attempt > args.retries:
                raise UnavailableError(f"the card was taken off the reader during the read {attempt} times; "
                                       "giving up — keep the card still on the reader and try again") from None
            print(f"the card was taken off the reader during the read — place it on the reader again "
                  f"(retry {attempt} of {args.retries}, waiting up to {wait:g} s)", file=sys.stderr, flush=True)
            time.sleep(0.2)
            continue
        except ReaderUnavailable as e:
            if attempt > 1:
                raise UnavailableError(f"the card was taken off the reader and not read again within {wait:g} s; "
                                       f"giving up ({e})") from None
            raise UnavailableError(str(e)) from None
        except ChipError as e:
            log_event(log, "chip_read_failed", logging.WARNING, error=type(e).__name__)
            raise KioskError(f"the chip could not be read: {e}") from None
        finally:
            if conn is not None:
                conn.close()
    log_event(log, "chip_read", access_method=result.access_method, pa=result.passive_authentication,
              ca=result.chip_authentication, apdus=result.apdus, bytes=result.bytes)
    data = result.to_json()
    ctx.emit(data, lambda: describe(data))
    return 0


def describe(d: dict) -> str:
    alarm = []
    if d["passive_authentication"] == "failed":
        alarm.append(f"{both('cli.alarm')}: chip data failed authentication ({d['passive_authentication_reason']})")
    if d["chip_authentication"] == "clone_suspected":
        alarm.append(f"{both('cli.alarm')}: this chip may be a clone (it could not prove its key)")
    lines = alarm + [
        f"{d['full_name']}  ID {mask_id(d['id_number'])}",
        f"  born {d['date_of_birth']}  sex {d['sex']}  nationality {d['nationality']}  ethnicity {d['ethnicity']}",
        f"  religion {d['religion']}",
        f"  place of origin: {d['place_of_origin']}",
        f"  place of residence: {d['place_of_residence']}",
        f"  identifying marks: {d['identifying_marks']}",
        f"  issued {d['issue_date']}  expires {d['expiry_date'] or 'never (lifetime card)'}",
        f"  father {d['father_name']}  mother {d['mother_name']}  spouse {d['spouse_name'] or '-'}",
        f"  old ID {mask_id(d['old_id_number']) or '-'}",
        f"access_method {d['access_method']}  (tried: "
        + ", ".join(f"{a['method']} {a['result']}" for a in d["access_attempts"]) + ")",
        f"passive_authentication {d['passive_authentication']}"
        + (f" ({d['passive_authentication_reason']})" if d["passive_authentication_reason"] else ""),
        f"chip_authentication {d['chip_authentication']}"
        + (f" ({d['chip_authentication_method']})" if d["chip_authentication_method"] else ""),
        f"apdus {d['apdus']}  bytes {d['bytes']}  ({d['apdus_after_access']} APDUs after access, "
        f"{'extended' if d['extended_length'] else 'short'} length, {d['seconds']:.3f} s)",
    ]
    if d["photo"]:
        lines.append(f"photo {d['photo']['format']} {d['photo']['size']} bytes (in memory only)")
    return "\n".join(lines)
