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
from typing import Any

from kiosk import roster

# status text (roster file) <-> code (database) <-> national result code
STATUSES = ("active", "revoked", "decreased_moved_out", "decreased_moved_within", "decreased_reenrolled",
            "decreased_stopped", "replaced")
STATUS_CODE = {s: i for i, s in enumerate(STATUSES)}

FIELDS = ("card_number", "id_number", "social_insurance_number", "full_name", "date_of_birth", "sex",
          "beneficiary_group", "benefit_level", "province_code", "facility_code", "valid_from", "valid_to",
          "five_year_date", "living_area", "status", "replaced_by")

_CARD15 = re.compile(r"[A-Z]{2}[1-5]\d{12}")
_DIGITS10 = re.compile(r"\d{10}")
_DIGITS12 = re.compile(r"\d{12}")
_GROUP = re.compile(r"[A-Z]{2}")
_PROVINCE = re.compile(r"\d{2}")
_FACILITY = re.compile(r"\d{5}")
_YEAR = re.compile(r"\d{4}")
# QR living-area digits (identity-documents.md §3 field 11) and the K-codes the gateway uses.
_LIVING_AREA = {"K1": "K1", "K2": "K2", "K3": "K3", "5": "K1", "6": "K2", "7": "K3", "4": None}


class BadCard(ValueError):
    """A roster line that is not a valid card: the message names the field and what was expected."""


@dataclass(frozen=True, slots=True)
class RosterCard:
    """One card as the kiosk keeps it. Dates are `datetime.date` (None when unknown)."""

    card_key: int
    id_key: int | None
    sin_key: int | None
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

    def row(self) -> tuple:
        """The database row (column order of COLUMNS)."""
        return (self.card_key, self.id_key, self.sin_key, self.name_key, self.birth_key, self.beneficiary_group,
                self.benefit_level, self.province_code, self.facility_code, _ord(self.valid_from),
                _ord(self.valid_to), _ord(self.five_year_date), self.living_area, STATUS_CODE[self.status],
                self.replaced_by_key)

    @classmethod
    def from_row(cls, r: tuple) -> "RosterCard":
        return cls(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], _day(r[9]), _day(r[10]), _day(r[11]),
                   r[12], STATUSES[r[13]], r[14])


COLUMNS = tuple(RosterCard.__dataclass_fields__)


def _ord(d: date | None) -> int | None:
    return d.toordinal() if d else None


def _day(n: int | None) -> date | None:
    return date.fromordinal(n) if n is not None else None


def _text(rec: dict, name: str) -> str | None:
    v = rec.get(name)
    if v is None:
        return None
    if not isinstance(v, str):
        raise BadCard(f"{name}: expected text or null, got {type(v).__name__}")
    v = v.strip()
    return v or None


def _match(rec: dict, name: str, rx: re.Pattern, expected: str, upper: bool = False) -> str | None:
    v = _text(rec, name)
    if v is None:
        return None
    if upper:
        v = v.upper()
    if not rx.fullmatch(v):
        raise BadCard(f"{name}: expected {expected}")
    return v


def _date(rec: dict, name: str) -> date | None:
    v = _text(rec, name)
    if v is None:
        return None
    try:
        if len(v) != 10:
            raise ValueError
        return date.fromisoformat(v)
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


def minimise(key: bytes, rec: Any) -> RosterCard:
    """Validate one roster record and reduce it to what a decision needs. Raises BadCard."""
    if not isinstance(rec, dict):
        raise BadCard("expected a JSON object")
    card = _text(rec, "card_number")
    if card is None:
        raise BadCard("card_number: missing")
    card = roster.normalise_card(card)
    if not (_CARD15.fullmatch(card) or _DIGITS10.fullmatch(card)):
        raise BadCard("card_number: expected the 15-character code (e.g. HS4401234567890) or 10 digits")
    id_number = _match(rec, "id_number", _DIGITS12, "12 digits")
    sin = _match(rec, "social_insurance_number", _DIGITS10, "10 digits") or card[-10:]
    group = _match(rec, "beneficiary_group", _GROUP, "2 letters", upper=True)
    level = rec.get("benefit_level")
    if isinstance(level, str) and level.strip().isdigit():
        level = int(level)
    if level is not None and (isinstance(level, bool) or not isinstance(level, int) or not 1 <= level <= 5):
        raise BadCard("benefit_level: expected 1 to 5 or null")
    if level is None and len(card) == 15:
        level = int(card[2])
    if group is None and len(card) == 15:
        group = card[:2]
    province = _match(rec, "province_code", _PROVINCE, "2 digits") or (card[3:5] if len(card) == 15 else None)
    facility = _match(rec, "facility_code", _FACILITY, "5 digits")
    valid_from, valid_to = _date(rec, "valid_from"), _date(rec, "valid_to")
    if valid_from and valid_to and valid_to < valid_from:
        raise BadCard("valid_to: expected a date on or after valid_from")
    five = _date(rec, "five_year_date")
    area_raw = _text(rec, "living_area")
    if area_raw is not None and area_raw.upper() not in _LIVING_AREA:
        raise BadCard("living_area: expected K1, K2, K3 or null")
    area = _LIVING_AREA[area_raw.upper()] if area_raw is not None else None
    status = _text(rec, "status") or "active"
    if status not in STATUS_CODE:
        raise BadCard(f"status: expected one of {', '.join(STATUSES)}")
    replaced_by = _text(rec, "replaced_by")
    if replaced_by is not None:
        replaced_by = roster.normalise_card(replaced_by)
        if not (_CARD15.fullmatch(replaced_by) or _DIGITS10.fullmatch(replaced_by)):
            raise BadCard("replaced_by: expected a card number or null")
    name = _text(rec, "full_name")
    dob_raw = _text(rec, "date_of_birth")
    dob = normalise_birth(dob_raw)
    if dob_raw is not None and dob is None:
        raise BadCard("date_of_birth: expected YYYY-MM-DD, YYYY or null")
    return RosterCard(
        card_key=roster.card_key(key, card),
        id_key=roster.id_key(key, id_number) if id_number else None,
        sin_key=roster.sin_key(key, sin),
        name_key=roster.name_key(key, name) if name else None,
        birth_key=roster.birth_key(key, dob) if dob else None,
        beneficiary_group=group, benefit_level=level, province_code=province, facility_code=facility,
        valid_from=valid_from, valid_to=valid_to, five_year_date=five, living_area=area, status=status,
        replaced_by_key=roster.card_key(key, replaced_by) if replaced_by else None)
