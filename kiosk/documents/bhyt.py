"""The QR on the health-insurance (BHYT) card, also shown by the VssID and VNeID apps.

`|`-separated text ending in a `$` field (one sample ends in `#`); name,
address, guardian and issuing place are hex-encoded UTF-8
(shared/reference/identity-documents.md §3–4). Cards with the 15-character
code carry 14 fields; cards printed with the 10-digit number (from April
2021) carry 16. The check string cannot be verified offline: it is kept raw
and never claimed as verified, so the QR alone proves nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kiosk.documents import fields as F
from kiosk.documents.errors import ParseError
from kiosk.documents.tables import load_bhyt_groups, provinces
from kiosk.domain import PersonIdentity

KIND = "bhyt_qr"
TERMINATORS = ("$", "#")
OLD_FIELDS, NEW_FIELDS = 14, 16
_CODE15 = re.compile(r"([A-Z]{2})(\d)(\d{2})(\d{10})", re.ASCII)
_SIN = re.compile(r"\d{10}", re.ASCII)
_FACILITY = re.compile(r"(\d{2})\s*[-–]\s*(\d{3})|(\d{2})(\d{3})", re.ASCII)
_YEAR = re.compile(r"\d{4}", re.ASCII)
_MANAGEMENT = re.compile(r"\d{14}", re.ASCII)
_CHECK = re.compile(r"[0-9A-Fa-f]{15,16}-\d{4}", re.ASCII)
_LIVING = {"4": None, "5": "K1", "6": "K2", "7": "K3"}
_LIVING_CODE = {v: k for k, v in _LIVING.items()}
_SEX = {"1": "male", "2": "female"}
_SEX_CODE = {v: k for k, v in _SEX.items()}
_NONE = ("-", "")
MAX_NAME, MAX_ADDRESS, MAX_PLACE, MAX_CHECK = 100, 300, 100, 64


@dataclass(frozen=True)
class BhytQr:
    card_number: str
    beneficiary_group: str | None
    benefit_level: int | None
    province_code: str | None
    social_insurance_number: str
    full_name: str
    date_of_birth: str
    sex: str
    address: str | None
    facility_code: str
    valid_from: str
    valid_to: str | None
    issue_date: str
    management_code: str
    guardian_name: str | None
    living_area: str | None
    five_year_date: str | None
    check_string: str
    issuing_place: str | None
    warnings: list[str] = field(default_factory=list)
    layout: str = "new"  # "old": 14 fields (15-character code era); "new": 16 fields (from April 2021)
    kind: str = KIND

    def identity(self) -> PersonIdentity:
        return PersonIdentity(document_kind=self.kind, full_name=self.full_name, date_of_birth=self.date_of_birth,
                              sex=self.sex, id_number=None, social_insurance_number=self.social_insurance_number,
                              card_number=self.card_number, address=self.address)

    def to_json(self) -> dict[str, object]:
        keys = ("kind", "card_number", "beneficiary_group", "benefit_level", "province_code",
                "social_insurance_number", "full_name", "date_of_birth", "sex", "address", "facility_code",
                "valid_from", "valid_to", "issue_date", "management_code", "guardian_name", "living_area",
                "five_year_date", "check_string", "issuing_place")
        out: dict[str, object] = {k: getattr(self, k) for k in keys}
        out["warnings"] = list(self.warnings)
        return out


def has_terminator(text: str) -> bool:
    return text.endswith(TERMINATORS)


def looks_like(fields: list[str]) -> bool:
    """A `|` payload whose first field is a BHYT card code (used to word the missing-terminator error)."""
    code = fields[0].upper() if fields else ""
    return bool(_CODE15.fullmatch(code) or _SIN.fullmatch(code)) and len(fields) in (OLD_FIELDS, NEW_FIELDS)


def _optional_date(text: str, field: str) -> str | None:
    return None if text in _NONE else F.dd_mm_yyyy(text, field)


def _optional_text(text: str, field: str, max_len: int) -> str | None:
    return None if text in _NONE else F.hex_utf8(text, field, max_len)


def parse(text: str) -> BhytQr:
    if not has_terminator(text):
        raise ParseError("BHYT QR: expected '$' (or '#') as the last field")
    body = text[:-1].rstrip()
    if body.endswith("|"):
        body = body[:-1]
    fields = [f.strip() for f in body.split("|", NEW_FIELDS)]
    if len(fields) not in (OLD_FIELDS, NEW_FIELDS):
        n = f"more than {NEW_FIELDS}" if len(fields) > NEW_FIELDS else str(len(fields))
        raise ParseError(f"BHYT QR: expected {OLD_FIELDS} fields (old card) or {NEW_FIELDS} (card from April 2021) "
                         f"before the '$', got {n}")
    warnings: list[str] = []
    table = load_bhyt_groups()

    card_number = fields[0].upper()
    m = _CODE15.fullmatch(card_number)
    if m:
        group, level, province, sin = m[1], int(m[2]), m[3], m[4]
        if not table.knows(group):
            raise ParseError("card_number: beneficiary group (first two letters) is not in the BHYT group table",
                             "card_number")
        if not 1 <= level <= 5:
            raise ParseError("card_number: benefit level (third character) must be 1 to 5", "card_number")
        if not table.allows(group, level):
            warnings.append("bhyt_group_level_mismatch")
        if province not in provinces():
            warnings.append("bhyt_province_unknown")
    elif _SIN.fullmatch(card_number):
        group, level, province, sin = None, None, None, card_number
    else:
        raise ParseError("card_number: expected the 15-character card code (2 letters, 13 digits) or the 10-digit "
                         f"social-insurance number, got {F.shape(card_number) or 'nothing'}", "card_number")

    full_name = F.name(F.hex_utf8(fields[1], "full_name", MAX_NAME), "full_name")
    dob_text = fields[2]
    if _YEAR.fullmatch(dob_text):
        F.real_date(int(dob_text), 1, 1, "date_of_birth")
        date_of_birth = dob_text
    elif "/" in dob_text:
        date_of_birth = F.dd_mm_yyyy(dob_text, "date_of_birth")
    else:
        raise ParseError(f"date_of_birth: expected dd/mm/yyyy or yyyy, got {F.shape(dob_text) or 'nothing'}",
                         "date_of_birth")
    sex = _SEX.get(fields[3])
    if sex is None:
        raise ParseError(f"sex: expected 1 (male) or 2 (female), got {F.shape(fields[3]) or 'nothing'}", "sex")
    address = _optional_text(fields[4], "address", MAX_ADDRESS)
    fm = _FACILITY.fullmatch(fields[5])
    if not fm:
        raise ParseError("facility_code: expected the first-contact facility as 'PP - FFF' (e.g. '40 - 123'), "
                         f"got {F.shape(fields[5]) or 'nothing'}", "facility_code")
    facility_code = (fm[1] or fm[3]) + (fm[2] or fm[4])
    if facility_code[:2] not in provinces():
        warnings.append("bhyt_facility_province_unknown")
    valid_from = F.dd_mm_yyyy(fields[6], "valid_from")
    valid_to = _optional_date(fields[7], "valid_to")
    if valid_to is not None and valid_to < valid_from:
        warnings.append("bhyt_valid_to_before_from")
    issue_date = F.dd_mm_yyyy(fields[8], "issue_date")
    management_code = fields[9]
    if not _MANAGEMENT.fullmatch(management_code):
        raise ParseError(f"management_code: expected 14 digits, got {F.shape(management_code) or 'nothing'}",
                         "management_code")
    if management_code[4:] != sin:
        warnings.append("bhyt_management_code_mismatch")
    guardian_name = _guardian(fields[10], warnings)
    if fields[11] not in _LIVING:
        raise ParseError("living_area: expected 4 (none), 5 (K1), 6 (K2) or 7 (K3), "
                         f"got {F.shape(fields[11]) or 'nothing'}", "living_area")
    living_area = _LIVING[fields[11]]
    five_year_date = _optional_date(fields[12], "five_year_date")
    check_string = fields[13]
    if len(check_string) > MAX_CHECK:
        raise ParseError(f"check_string: expected at most {MAX_CHECK} characters, got {len(check_string)}",
                         "check_string")
    F.free_text(check_string, "check_string", MAX_CHECK)
    if not _CHECK.fullmatch(check_string):
        warnings.append("bhyt_check_string_unusual")

    if F.has_digit(full_name) or F.has_digit(guardian_name):
        warnings.append("name_has_digits")

    issuing_place = None
    layout = "old" if len(fields) == OLD_FIELDS else "new"
    if layout == "new":
        if fields[14] not in _NONE:
            if fields[14] not in ("1", "2", "3", "4", "5"):
                raise ParseError(f"benefit_level: expected 1 to 5, got {F.shape(fields[14])}", "benefit_level")
            if level is not None and int(fields[14]) != level:
                warnings.append("bhyt_level_mismatch")
            level = int(fields[14])
            if group is not None and not table.allows(group, level) and "bhyt_group_level_mismatch" not in warnings:
                warnings.append("bhyt_group_level_mismatch")
        issuing_place = _optional_text(fields[15], "issuing_place", MAX_PLACE)

    return BhytQr(card_number, group, level, province, sin, full_name, date_of_birth, sex, address, facility_code,
                  valid_from, valid_to, issue_date, management_code, guardian_name, living_area, five_year_date,
                  check_string, issuing_place, warnings, layout)


def _guardian(text: str, warnings: list[str]) -> str | None:
    # Encoding not confirmed: hex UTF-8 like the other names when it decodes, else kept as printed and flagged.
    if text in _NONE:
        return None
    try:
        return F.name(F.hex_utf8(text, "guardian_name", MAX_NAME), "guardian_name")
    except ParseError:
        warnings.append("bhyt_guardian_name_not_hex")
        return F.free_text(text, "guardian_name", MAX_NAME)


def render(doc: BhytQr, terminator: str = "$", dash: str = "-") -> str:
    """The QR text that parses back to `doc` (for tests and the simulators)."""
    def dmy(iso: str | None) -> str:
        return "-" if iso is None else f"{iso[8:10]}/{iso[5:7]}/{iso[:4]}"

    def hx(text: str | None) -> str:
        return "-" if text is None else text.encode("utf-8").hex()

    dob = doc.date_of_birth if len(doc.date_of_birth) == 4 else dmy(doc.date_of_birth)
    fields = [doc.card_number, hx(doc.full_name), dob, _SEX_CODE[doc.sex], hx(doc.address),
              f"{doc.facility_code[:2]} {dash} {doc.facility_code[2:]}", dmy(doc.valid_from), dmy(doc.valid_to),
              dmy(doc.issue_date), doc.management_code, hx(doc.guardian_name), _LIVING_CODE[doc.living_area],
              dmy(doc.five_year_date), doc.check_string]
    if doc.layout == "new":
        fields += ["-" if doc.benefit_level is None else str(doc.benefit_level), hx(doc.issuing_place)]
    return "|".join(fields + [terminator])
