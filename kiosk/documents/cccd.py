"""The QR on the chip ID card (CCCD) and the Căn cước card.

`ID12|OLD_ID|NAME|DOB ddmmyyyy|Nam/Nữ|ADDRESS|ISSUE ddmmyyyy[|extra…]`
(shared/reference/identity-documents.md §2). Fields are positional: never
collapse empty ones. The Căn cước card may carry up to four more fields
(cancelled ID, parents' names; no verified sample), kept raw.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kiosk.documents import fields as F
from kiosk.documents.errors import ParseError
from kiosk.domain import PersonIdentity

KIND = "cccd_qr"
MIN_FIELDS, MAX_FIELDS = 7, 11
_ID12 = re.compile(r"\d{12}", re.ASCII)
_OLD_ID = re.compile(r"\d{9}|\d{12}", re.ASCII)  # the old CMND (9); a Căn cước card may show an earlier 12-digit number
_SEX = {"nam": "male", "nữ": "female"}
_SEX_TEXT = {"male": "Nam", "female": "Nữ"}
MAX_ADDRESS = 300
MAX_EXTRA = 200


@dataclass(frozen=True)
class CccdQr:
    id_number: str
    old_id_number: str | None
    full_name: str
    date_of_birth: str
    sex: str
    address: str
    issue_date: str
    extra_fields: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    kind: str = KIND

    def identity(self) -> PersonIdentity:
        return PersonIdentity(document_kind=self.kind, full_name=self.full_name, date_of_birth=self.date_of_birth,
                              sex=self.sex, id_number=self.id_number, address=self.address or None)

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind, "id_number": self.id_number, "old_id_number": self.old_id_number,
            "full_name": self.full_name, "date_of_birth": self.date_of_birth, "sex": self.sex,
            "address": self.address, "issue_date": self.issue_date,
            "extra_fields": list(self.extra_fields), "warnings": list(self.warnings),
        }


def looks_like(fields: list[str]) -> bool:
    return bool(fields) and bool(_ID12.fullmatch(fields[0]))


def parse(text: str) -> CccdQr:
    fields = [f.strip() for f in text.split("|", MAX_FIELDS)]
    if not MIN_FIELDS <= len(fields) <= MAX_FIELDS:
        n = f"more than {MAX_FIELDS}" if len(fields) > MAX_FIELDS else str(len(fields))
        raise ParseError(f"CCCD QR: expected {MIN_FIELDS} to {MAX_FIELDS} fields separated by '|', got {n}")
    id_number, old_id, name, dob, sex, address, issued = fields[:MIN_FIELDS]
    if not _ID12.fullmatch(id_number):
        raise ParseError(f"id_number: expected 12 digits, got {F.shape(id_number) or 'nothing'}", "id_number")
    if old_id and not _OLD_ID.fullmatch(old_id):
        raise ParseError(f"old_id_number: expected 9 digits (or 12) or empty, got {F.shape(old_id)}", "old_id_number")
    name = F.name(name, "full_name")
    date_of_birth = F.ddmmyyyy(dob, "date_of_birth")
    sex_value = _SEX.get(sex.casefold())
    if sex_value is None:
        raise ParseError(f"sex: expected 'Nam' or 'Nữ', got {F.shape(sex) or 'nothing'}", "sex")
    address = F.free_text(address, "address", MAX_ADDRESS)
    issue_date = F.ddmmyyyy(issued, "issue_date")
    extras = fields[MIN_FIELDS:]
    for i, extra in enumerate(extras, start=MIN_FIELDS):
        F.free_text(extra, f"field {i}", MAX_EXTRA)
    warnings = F.id_warnings(id_number, date_of_birth, sex_value)
    if issue_date < date_of_birth:
        warnings.append("issue_date_before_birth")
    if F.has_digit(name):
        warnings.append("name_has_digits")
    if not address:
        warnings.append("address_missing")
    return CccdQr(id_number, old_id or None, name, date_of_birth, sex_value, address, issue_date, extras, warnings)


def render(doc: CccdQr) -> str:
    """The QR text that parses back to `doc` (for tests and the simulators)."""
    def dmy(iso: str) -> str:
        return iso[8:10] + iso[5:7] + iso[:4]
    return "|".join([doc.id_number, doc.old_id_number or "", doc.full_name, dmy(doc.date_of_birth),
                     _SEX_TEXT[doc.sex], doc.address, dmy(doc.issue_date), *doc.extra_fields])
