"""The QR on the chip ID card (CCCD) and the Căn cước card.

`ID12|OLD9|NAME|DOB ddmmyyyy|Nam/Nữ|ADDRESS|ISSUE ddmmyyyy[|extra...]`
(see shared/reference/identity-documents.md §2). Fields are positional:
never collapse empty ones.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from kiosk.documents.errors import ParseError
from kiosk.domain import PersonIdentity

KIND = "cccd_qr"
_ID12 = re.compile(r"\d{12}")
_ID9 = re.compile(r"\d{9}")
_SEX = {"nam": "male", "nữ": "female"}


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
                              sex=self.sex, id_number=self.id_number, address=self.address)

    def to_json(self) -> dict:
        return {
            "kind": self.kind, "id_number": self.id_number, "old_id_number": self.old_id_number,
            "full_name": self.full_name, "date_of_birth": self.date_of_birth, "sex": self.sex,
            "address": self.address, "issue_date": self.issue_date,
            "extra_fields": list(self.extra_fields), "warnings": list(self.warnings),
        }


def parse_ddmmyyyy(text: str, field_name: str) -> str:
    if not re.fullmatch(r"\d{8}", text):
        raise ParseError(f"{field_name}: expected a date as ddmmyyyy, got {len(text)} characters", field_name)
    try:
        return date(int(text[4:]), int(text[2:4]), int(text[:2])).isoformat()
    except ValueError:
        raise ParseError(f"{field_name}: {text[:2]}/{text[2:4]}/{text[4:]} is not a calendar date", field_name) from None


def id_number_warnings(id_number: str, date_of_birth: str | None, sex: str | None) -> list[str]:
    """Codes for an ID number whose century/sex digit or birth year disagrees with the stated ones."""
    warnings = []
    g = int(id_number[3])
    century = 1900 + 100 * (g // 2)
    id_sex = "female" if g % 2 else "male"
    if sex and sex != id_sex:
        warnings.append("id_sex_mismatch")
    if date_of_birth:
        year = int(date_of_birth[:4])
        if year != century + int(id_number[4:6]):
            warnings.append("id_birth_year_mismatch")
    return warnings


def parse(text: str) -> CccdQr:
    fields = [f.strip() for f in text.split("|")]
    if not 7 <= len(fields) <= 11:
        raise ParseError(f"CCCD QR: expected 7 to 11 fields separated by '|', got {len(fields)}")
    id_number, old_id, name, dob, sex, address, issued = fields[:7]
    if not _ID12.fullmatch(id_number):
        raise ParseError("id_number: expected 12 digits", "id_number")
    if old_id and not _ID9.fullmatch(old_id):
        raise ParseError("old_id_number: expected 9 digits or empty", "old_id_number")
    if not name or len(name) > 100:
        raise ParseError("full_name: expected 1 to 100 characters", "full_name")
    date_of_birth = parse_ddmmyyyy(dob, "date_of_birth")
    sex_value = _SEX.get(sex.lower())
    if sex_value is None:
        raise ParseError("sex: expected 'Nam' or 'Nữ'", "sex")
    if len(address) > 300:
        raise ParseError("address: expected at most 300 characters", "address")
    issue_date = parse_ddmmyyyy(issued, "issue_date")
    return CccdQr(id_number, old_id or None, name, date_of_birth, sex_value, address, issue_date,
                  fields[7:], id_number_warnings(id_number, date_of_birth, sex_value))
