"""The machine-readable zone of the chip ID card: ICAO TD1, 3 lines × 30 characters.

Line 1: `ID` `VNM` document number (last 9 digits of the ID) + check digit,
optional data = the 12-digit ID, `<<`, a check digit over it (position 30).
Line 2: birth yymmdd + check, sex, expiry yymmdd + check, nationality,
filler, composite check. Line 3: SURNAME<<GIVEN<NAMES (no diacritics).
(shared/reference/identity-documents.md §5.) Every check digit is verified;
a wrong one is an error naming it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from kiosk.documents import fields as F
from kiosk.documents.errors import ParseError
from kiosk.domain import PersonIdentity

KIND = "mrz_td1"
LINE = 30
LIFETIME = "991231"
CARD_AGES = (14, 25, 40, 60)  # a CCCD / Căn cước card expires on the birthday at one of these ages
LIFETIME_FROM_AGE = 58
FIRST_ISSUE_YEAR = 2016  # the first cards carrying the 12-digit ID
_CHARS = re.compile(r"[A-Z0-9<]*", re.ASCII)
_ID12 = re.compile(r"\d{12}", re.ASCII)
_YYMMDD = re.compile(r"\d{6}", re.ASCII)
_SEX = {"M": "male", "F": "female", "<": None}
_SEX_CODE = {v: k for k, v in _SEX.items()}
_WEIGHTS = (7, 3, 1)


@dataclass(frozen=True)
class MrzTd1:
    document_number: str
    id_number: str | None
    date_of_birth: str
    sex: str | None
    expiry_date: str | None  # None: valid for life (991231)
    surname: str
    given_names: str
    check_digits_ok: bool = True
    # Consistency codes (ID vs. birth date/sex, expiry age); flags at check-in, not part of the JSON contract.
    warnings: list[str] = field(default_factory=list)
    kind: str = KIND

    @property
    def full_name(self) -> str:
        return f"{self.surname} {self.given_names}".strip()

    def identity(self) -> PersonIdentity:
        return PersonIdentity(document_kind=self.kind, full_name=self.full_name, date_of_birth=self.date_of_birth,
                              sex=self.sex, id_number=self.id_number)

    def to_json(self) -> dict[str, object]:
        return {"kind": self.kind, "document_number": self.document_number, "id_number": self.id_number,
                "date_of_birth": self.date_of_birth, "sex": self.sex, "expiry_date": self.expiry_date,
                "surname": self.surname, "given_names": self.given_names, "check_digits_ok": self.check_digits_ok}


def check_digit(text: str) -> str:
    """ICAO 9303 check digit: weights 7-3-1, `<` = 0, digits as themselves, A–Z = 10–35."""
    total = 0
    for i, c in enumerate(text):
        v = 0 if c == "<" else int(c) if "0" <= c <= "9" else ord(c) - 55
        total += v * _WEIGHTS[i % 3]
    return str(total % 10)


def looks_like(text: str) -> bool:
    """Only MRZ characters (and line breaks/spaces), with at least one `<` filler."""
    return "<" in text and bool(re.fullmatch(r"[A-Za-z0-9<\s]+", text))


def split_lines(text: str) -> tuple[str, str, str]:
    lines = [ln.strip().upper() for ln in text.splitlines() if ln.strip()]
    if len(lines) == 1 and len(lines[0]) == 3 * LINE:
        lines = [lines[0][i:i + LINE] for i in range(0, 3 * LINE, LINE)]
    if len(lines) != 3 or any(len(ln) != LINE for ln in lines):
        got = ", ".join(str(len(ln)) for ln in lines[:4]) + (", …" if len(lines) > 4 else "")
        raise ParseError(f"mrz: expected 3 lines of {LINE} characters (TD1) or one {3 * LINE}-character string, "
                         f"got {len(lines)} line(s) of {got}", "mrz")
    for n, ln in enumerate(lines, start=1):
        if not _CHARS.fullmatch(ln):
            raise ParseError(f"mrz line {n}: expected only A–Z, 0–9 and '<'", "mrz")
    return lines[0], lines[1], lines[2]


def _check(value: str, digit: str, name: str) -> None:
    if check_digit(value) != digit:
        raise ParseError(f"mrz {name} check digit: expected {check_digit(value)}, got {digit!r}", name)


def _yymmdd(text: str, name: str) -> tuple[int, int, int]:
    if not _YYMMDD.fullmatch(text):
        raise ParseError(f"mrz {name}: expected yymmdd digits, got {F.shape(text)}", name)
    return int(text[:2]), int(text[2:4]), int(text[4:])


def parse(text: str, today: date | None = None) -> MrzTd1:
    l1, l2, l3 = split_lines(text)
    if l1[0] not in "IAC" or l1[2:5] != "VNM":
        raise ParseError("mrz line 1: expected a Vietnamese TD1 ID card ('ID' then issuing state 'VNM')",
                         "issuing_state")
    document_number = l1[5:14]
    _check(document_number, l1[14], "document_number")
    optional = l1[15:30]
    id_number = optional[:12] if _ID12.fullmatch(optional[:12]) else None
    if id_number is not None:
        _check(id_number, l1[29], "id_number")
    dob_raw, expiry_raw = l2[0:6], l2[8:14]
    _check(dob_raw, l2[6], "date_of_birth")
    _check(expiry_raw, l2[14], "expiry_date")
    _check(l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29], l2[29], "composite")
    if l2[7] not in _SEX:
        raise ParseError("mrz sex: expected M, F or '<'", "sex")
    sex = _SEX[l2[7]]

    warnings: list[str] = []
    yy, mm, dd = _yymmdd(dob_raw, "date_of_birth")
    expiry_year = None
    if expiry_raw != LIFETIME:
        eyy, emm, edd = _yymmdd(expiry_raw, "expiry_date")
        # Card issue rules: 12-digit ID cards exist from 2016, so the expiry is the first such year from 2016 on.
        expiry_year = FIRST_ISSUE_YEAR + (eyy - FIRST_ISSUE_YEAR) % 100
    if id_number is not None:
        birth_year = F.id_century(id_number) + yy  # the ID's century digit decides
    else:
        birth_year = _birth_year_without_id(yy, expiry_year, today or date.today())
    date_of_birth = F.real_date(birth_year, mm, dd, "date_of_birth")
    expiry_date = None
    if expiry_year is not None:
        expiry_date = F.real_date(expiry_year, emm, edd, "expiry_date")
        if not _at_card_age(date_of_birth, expiry_date):
            warnings.append("mrz_expiry_not_at_card_age")

    surname, given_names = _names(l3)
    document_number = document_number.rstrip("<")
    if id_number is not None:
        warnings += F.id_warnings(id_number, date_of_birth, sex)
        if id_number[3:] != document_number:
            warnings.append("mrz_document_number_mismatch")
    if l2[15:18] != "VNM":
        warnings.append("mrz_nationality_not_vnm")
    return MrzTd1(document_number, id_number, date_of_birth, sex, expiry_date, surname, given_names, True, warnings)


def _birth_year_without_id(yy: int, expiry_year: int | None, today: date) -> int:
    """No ID to give the century: the year that puts the expiry at a card age, else the latest plausible one."""
    if expiry_year is not None:
        for age in CARD_AGES:
            if (expiry_year - age) % 100 == yy:
                return expiry_year - age
        latest = min(today.year, expiry_year)
    else:
        latest = today.year - LIFETIME_FROM_AGE  # a lifetime card is issued within two years before 60
    return latest - (latest - yy) % 100


def _at_card_age(dob: str, expiry: str) -> bool:
    age = int(expiry[:4]) - int(dob[:4])
    same_day = expiry[5:] == dob[5:] or (dob[5:] == "02-29" and expiry[5:] in ("02-28", "03-01"))
    return age in CARD_AGES and same_day


def _names(line: str) -> tuple[str, str]:
    body = line.rstrip("<")
    if any(c.isdigit() for c in body):  # any script's digit: a name has none
        raise ParseError("mrz line 3: expected the name as SURNAME<<GIVEN<NAMES (letters only)", "surname")
    surname, _, given = body.partition("<<")
    surname = " ".join(p for p in surname.split("<") if p)
    given = " ".join(p for p in given.split("<") if p)
    if not surname:
        raise ParseError("mrz line 3: expected the name as SURNAME<<GIVEN<NAMES, the surname is empty", "surname")
    return surname, given


def render(doc: MrzTd1, separator: str = "\n") -> str:
    """Three 30-character lines that parse back to `doc` (`separator=""` gives the 90-character form)."""
    def yymmdd(iso: str | None) -> str:
        return LIFETIME if iso is None else iso[2:4] + iso[5:7] + iso[8:10]

    number = doc.document_number.ljust(9, "<")
    optional = (doc.id_number + "<<" + check_digit(doc.id_number)) if doc.id_number else "<" * 15
    l1 = "IDVNM" + number + check_digit(number) + optional
    dob, exp = yymmdd(doc.date_of_birth), yymmdd(doc.expiry_date)
    l2 = dob + check_digit(dob) + _SEX_CODE[doc.sex] + exp + check_digit(exp) + "VNM" + "<" * 11
    l2 += check_digit(l1[5:30] + l2[0:7] + l2[8:15] + l2[18:29])
    name = doc.surname.replace(" ", "<") + "<<" + doc.given_names.replace(" ", "<")
    l3 = name[:LINE].ljust(LINE, "<")
    return separator.join([l1, l2, l3])
