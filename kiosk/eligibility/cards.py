"""A roster card: the minimised form the kiosk keeps, and how a roster line becomes one.

`minimise()` is the only way a card enters the store: it validates one
roster-file record (docs/roster-format.md) and keeps what a decision needs,
with identifiers, name and birth date reduced to keyed hashes. It is pure
(no I/O) so the import, the demo and the tests share it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Required, TypedDict

from kiosk.eligibility import roster

# status text (roster file) <-> code (database) <-> national result code
STATUSES = ("active", "revoked", "decreased_moved_out", "decreased_moved_within", "decreased_reenrolled",
            "decreased_stopped", "replaced")
STATUS_CODE = {s: i for i, s in enumerate(STATUSES)}


class RosterRecord(TypedDict, total=False):
    """One card line of a roster file as its producer writes it (docs/roster-format.md); absent = null.

    What arrives from a file is only checked by `minimise_row()`, which takes any object.
    """

    card_number: Required[str]  # the 15-character code or the 10-digit printed number
    id_number: str | None
    social_insurance_number: str | None
    full_name: str | None
    date_of_birth: str | None  # YYYY-MM-DD or YYYY
    sex: str | None
    beneficiary_group: str | None
    benefit_level: int | None
    province_code: str | None
    facility_code: str | None
    valid_from: str | None  # YYYY-MM-DD
    valid_to: str | None
    five_year_date: str | None
    living_area: str | None  # K1–K3
    status: str  # one of STATUSES (default "active")
    replaced_by: str | None


class RosterDeletion(TypedDict):
    """A delta line removing a card."""

    delete: str  # card number


FIELDS: tuple[str, ...] = tuple(RosterRecord.__annotations__)


class CardSummary(TypedDict):
    """What the roster holds about a card that is not personal: group, level, dates, facility, status."""

    beneficiary_group: str | None
    benefit_level: int | None
    province_code: str | None
    facility_code: str | None
    valid_from: str | None  # ISO dates
    valid_to: str | None
    five_year_date: str | None
    living_area: str | None
    status: str
    replaced: bool

_CARD15 = re.compile(r"[A-Z]{2}[1-5]\d{12}", re.ASCII)
_DIGITS10 = re.compile(r"\d{10}", re.ASCII)
_DIGITS12 = re.compile(r"\d{12}", re.ASCII)
_GROUP = re.compile(r"[A-Z]{2}")
_PROVINCE = re.compile(r"\d{2}", re.ASCII)
_FACILITY = re.compile(r"\d{5}", re.ASCII)
_YEAR = re.compile(r"\d{4}", re.ASCII)
# QR living-area digits (identity-documents.md §3 field 11) and the K-codes the gateway uses.
_LIVING_AREA = {"K1": "K1", "K2": "K2", "K3": "K3", "5": "K1", "6": "K2", "7": "K3", "4": None}


class BadCard(ValueError):
    """A roster line that is not a valid card: the message names the field and what was expected."""


# A roster_cards row in COLUMNS order: keys and prefixes, clear group/level/codes, dates as day ordinals,
# the status as its STATUS_CODE.
CardRow = tuple[int, str | None, int | None, int | None, int | None, str | None, int | None, str | None,
                str | None, int | None, int | None, int | None, str | None, int, int | None, str | None]


@dataclass(frozen=True, slots=True)
class RosterCard:
    """One card as the kiosk keeps it. Dates are `datetime.date` (None when unknown)."""

    sin_key: int
    card_prefix: str | None
    id_key: int | None
    name_key: int | None
    birth_key: int | None
    beneficiary_group: str | None
    benefit_level: int | None
    province_code: str | None
    facility_code: str | None
    valid_from: date | None
    valid_to: date | None
    five_year_date: date | None
    living_area: str | None
    status: str
    replaced_by_key: int | None
    replaced_by_prefix: str | None = None

    def row(self) -> CardRow:
        """The database row (column order of COLUMNS)."""
        return (self.sin_key, self.card_prefix, self.id_key, self.name_key, self.birth_key, self.beneficiary_group,
                self.benefit_level, self.province_code, self.facility_code, _ord(self.valid_from),
                _ord(self.valid_to), _ord(self.five_year_date), self.living_area, STATUS_CODE[self.status],
                self.replaced_by_key, self.replaced_by_prefix)

    def summary(self) -> CardSummary:
        return {"beneficiary_group": self.beneficiary_group, "benefit_level": self.benefit_level,
                "province_code": self.province_code, "facility_code": self.facility_code,
                "valid_from": _iso(self.valid_from), "valid_to": _iso(self.valid_to),
                "five_year_date": _iso(self.five_year_date), "living_area": self.living_area, "status": self.status,
                "replaced": self.replaced_by_key is not None}

    @classmethod
    def from_row(cls, r: CardRow) -> "RosterCard":
        return cls(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], _day(r[9]), _day(r[10]), _day(r[11]),
                   r[12], STATUSES[r[13]], r[14], r[15])


COLUMNS = tuple(RosterCard.__dataclass_fields__)


def _ord(d: date | None) -> int | None:
    return d.toordinal() if d else None


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def _day(n: int | None) -> date | None:
    return date.fromordinal(n) if n is not None else None


def _bad_type(name: str, v: object) -> BadCard:
    return BadCard(f"{name}: expected text or null, got {type(v).__name__}")


def _str(rec: dict[str, object], name: str) -> str | None:
    v = rec.get(name)
    if v is None:
        return None
    if type(v) is not str:  # exactly str (not a subclass), as json/orjson give it
        raise _bad_type(name, v)
    v = v.strip()
    return v or None


def _day_number(rec: dict[str, object], name: str) -> int | None:
    v = _str(rec, name)
    if v is None:
        return None
    try:
        if len(v) != 10:
            raise ValueError
        return date.fromisoformat(v).toordinal()
    except ValueError:
        raise BadCard(f"{name}: expected an ISO date YYYY-MM-DD") from None


def normalise_birth(v: str | None) -> str | None:
    """`YYYY-MM-DD` or `YYYY`, else None (unknown)."""
    if not v:
        return None
    v = v.strip()
    if _YEAR.fullmatch(v):
        return v
    try:
        return date.fromisoformat(v).isoformat() if len(v) == 10 else None
    except ValueError:
        return None


def _card_code(v: str, name: str) -> str:
    v = v.upper()
    if not (_CARD15.fullmatch(v) or _DIGITS10.fullmatch(v)):
        raise BadCard(f"{name}: expected the 15-character code (e.g. HS4401234567890) or 10 digits")
    return v


def minimise_row(key: bytes, rec: object) -> CardRow:
    """Validate one roster record and reduce it to its database row (COLUMNS order). Raises BadCard.

    Written for speed (the import calls it 3.4 million times); `minimise()` is the readable form of its result.
    """
    if type(rec) is not dict:
        raise BadCard("expected a JSON object")
    card = _str(rec, "card_number")
    if card is None:
        raise BadCard("card_number: missing")
    card = _card_code(card, "card_number")
    long_code = len(card) == 15
    id_number = _str(rec, "id_number")
    if id_number is not None and not _DIGITS12.fullmatch(id_number):
        raise BadCard("id_number: expected 12 digits")
    sin = _str(rec, "social_insurance_number")
    if sin is not None and sin != card[-10:]:
        raise BadCard("social_insurance_number: expected the last 10 digits of card_number")
    group = _str(rec, "beneficiary_group")
    if group is not None:
        group = group.upper()
        if not _GROUP.fullmatch(group):
            raise BadCard("beneficiary_group: expected 2 letters")
    elif long_code:
        group = card[:2]
    level_value: object = rec.get("benefit_level")
    level: int | None = None
    if level_value is not None:
        if type(level_value) is str and level_value.strip().isascii() and level_value.strip().isdigit():
            level_value = int(level_value)
        if type(level_value) is not int or not 1 <= level_value <= 5:
            raise BadCard("benefit_level: expected 1 to 5 or null")
        level = level_value
    elif long_code:
        level = int(card[2])
    province = _str(rec, "province_code")
    if province is not None:
        if not _PROVINCE.fullmatch(province):
            raise BadCard("province_code: expected 2 digits")
    elif long_code:
        province = card[3:5]
    facility = _str(rec, "facility_code")
    if facility is not None and not _FACILITY.fullmatch(facility):
        raise BadCard("facility_code: expected 5 digits")
    valid_from = _day_number(rec, "valid_from")
    valid_to = _day_number(rec, "valid_to")
    if valid_from is not None and valid_to is not None and valid_to < valid_from:
        raise BadCard("valid_to: expected a date on or after valid_from")
    five = _day_number(rec, "five_year_date")
    area = _str(rec, "living_area")
    if area is not None:
        try:
            area = _LIVING_AREA[area.upper()]
        except KeyError:
            raise BadCard("living_area: expected K1, K2, K3 or null") from None
    status = _str(rec, "status") or "active"
    code = STATUS_CODE.get(status)
    if code is None:
        raise BadCard(f"status: expected one of {', '.join(STATUSES)}")
    replaced_by = _str(rec, "replaced_by")
    replaced_key = replaced_prefix = None
    if replaced_by is not None:
        replaced_key, replaced_prefix = roster.card_identity(key, _card_code(replaced_by, "replaced_by"))
    name = _str(rec, "full_name")
    dob_raw = _str(rec, "date_of_birth")
    dob = normalise_birth(dob_raw)
    if dob_raw is not None and dob is None:
        raise BadCard("date_of_birth: expected YYYY-MM-DD, YYYY or null")
    sin_key, prefix = roster.card_identity(key, card)
    return (sin_key, prefix, roster.id_key(key, id_number) if id_number else None,
            roster.name_key(key, name) if name else None,
            roster.birth_key(key, dob) if dob else None, group, level, province, facility, valid_from, valid_to,
            five, area, code, replaced_key, replaced_prefix)


def minimise(key: bytes, rec: object) -> RosterCard:
    """Validate one roster record and keep only what a decision needs, identifiers as keyed hashes."""
    return RosterCard.from_row(minimise_row(key, rec))
