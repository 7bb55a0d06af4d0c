"""BHYT eligibility from the local roster (offline-first).

`check()` finds the card by the keyed hash of what the patient presented and
applies the rules. Result codes are the national lookup's (000, 010, 110, …);
situations that list lacks get the project's own K-codes (see
docs/eligibility.md).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date

from kiosk import roster
from kiosk.domain import Eligibility, PersonIdentity
from kiosk.masking import mask_id

CANNOT_VERIFY = "K02"
NOT_YET_VALID = "K01"


@dataclass(frozen=True)
class RosterCard:
    card_hash: str
    beneficiary_group: str | None
    benefit_level: int | None
    province_code: str | None
    facility_code: str | None
    valid_from: str | None
    valid_to: str | None
    five_year_date: str | None
    living_area: str | None
    status: str
    replaced_by_hash: str | None
    name_dob_hash: str | None


_COLUMNS = ", ".join(RosterCard.__dataclass_fields__)


def find_card(conn: sqlite3.Connection, key: bytes, identity: PersonIdentity) -> RosterCard | None:
    """The roster card for this identity: by ID number, then card code, then BHXH number."""
    probes = []
    if identity.id_number:
        probes.append(("id_hash", roster.id_hash(key, identity.id_number)))
    if identity.card_number:
        probes.append(("card_hash", roster.card_hash(key, identity.card_number)))
    if identity.social_insurance_number:
        probes.append(("sin_hash", roster.sin_hash(key, identity.social_insurance_number)))
    for column, value in probes:
        # Prefer the active card when a person has an old and a new one.
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM roster_cards WHERE {column} = ? "
            "ORDER BY status = 'active' DESC, valid_to DESC LIMIT 1", [value]).fetchone()
        if row:
            return RosterCard(*row)
    return None


def roster_as_of(conn: sqlite3.Connection) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = 'roster.as_of'").fetchone()
    return row[0] if row else None


def check(conn: sqlite3.Connection, key: bytes, identity: PersonIdentity, visit_date: date,
          facility_code: str) -> Eligibility:
    card = find_card(conn, key, identity)
    as_of = roster_as_of(conn)
    if card is None:
        return Eligibility(CANNOT_VERIFY, None, "Chưa xác minh được thẻ BHYT lúc này (không có trong danh sách)",
                           "none", as_of)
    masked = mask_id(identity.card_number or identity.social_insurance_number or identity.id_number)
    return decide(card, identity, visit_date, facility_code, key, as_of, masked)


def decide(card: RosterCard, identity: PersonIdentity, visit_date: date, facility_code: str, key: bytes,
           as_of: str | None, masked: str) -> Eligibility:
    def result(code: str, percent: int | None, reason: str) -> Eligibility:
        return Eligibility(code, percent, reason, "roster", as_of, masked)

    if card.status == "revoked":
        return result("110", 0, "Thẻ đã bị thu hồi")
    if card.status.startswith("decreased"):
        return result("120", 0, "Thẻ đã báo giảm")
    if card.name_dob_hash and card.name_dob_hash != roster.name_dob_hash(key, identity.full_name,
                                                                          identity.date_of_birth):
        return result("060", 0, "Họ tên hoặc ngày sinh không khớp với thẻ")
    day = visit_date.isoformat()
    if card.valid_from and day < card.valid_from:
        return result(NOT_YET_VALID, 0, f"Thẻ chưa đến hạn sử dụng (từ {_vn(card.valid_from)})")
    if card.valid_to and day > card.valid_to:
        return result("010", 0, f"Thẻ đã hết hạn ngày {_vn(card.valid_to)}")
    # At a commune station every level is paid in full (see docs/eligibility.md).
    return result("000", 100, "Thẻ hợp lệ, hưởng 100% tại trạm y tế xã")


def _vn(iso: str) -> str:
    y, m, d = iso.split("-")
    return f"{d}/{m}/{y}"
