"""Demo data: invented people, their card payloads, a roster that knows two of them, two staff accounts.

Everyone here is invented (shapes from shared/reference/identity-documents.md).
Used by `kiosk demo` (through kiosk.app's Simulation), the tests and the
benchmarks, never by a kiosk in service.
"""

from __future__ import annotations

from datetime import date, timedelta

from kiosk import store
from kiosk.eligibility.cards import minimise
from kiosk.services import roster_import, staff

ELIGIBLE_CCCD = "040195001234|186543210|Trần Thị Lan Anh|12051995|Nữ|Xóm 3, Xã Nghi Phong, Huyện Nghi Lộc, Nghệ An|03062021"
EXPIRED_CCCD = "040205004321||Lê Văn Bình|02092005|Nam|Khối 12, Phường Hưng Bình, Thành phố Vinh, Nghệ An|15082022"
UNKNOWN_CCCD = "040088007777||Nguyễn Văn Cường|17031988|Nam|Xóm 5, Xã Hưng Đông, Thành phố Vinh, Nghệ An|20042021"
GARBAGE = "https://example.invalid/not-a-card?x=1"

# (id_number, card_number, name, dob ISO, group, level, valid from/to as days from today):
# validity is relative so the demo tells the same story on any day.
ROSTER = [
    ("040195001234", "HS4400195001234", "Trần Thị Lan Anh", "1995-05-12", "HS", 4, -300, 65),
    ("040205004321", "SV4400205004321", "Lê Văn Bình", "2005-09-02", "SV", 4, -395, -30),
]


# (name, ID number, PIN): the demo's administrator and a receptionist, invented
DEMO_STAFF = ("Nguyễn Thị Mai", "040190000111", "385172")
DEMO_RECEPTIONIST = ("Phạm Văn Nam", "040188000222", "4826")


def seed_roster(db: store.Database, key: bytes, today: date, facility_code: str) -> int:
    as_of = roster_date(today)
    with store.transaction(db) as tx:
        for id_number, card, name, dob, group, level, from_days, to_days in ROSTER:
            vfrom = (today + timedelta(days=from_days)).isoformat()
            vto = (today + timedelta(days=to_days)).isoformat()
            roster_import.upsert(tx, [minimise(key, {
                "card_number": card, "id_number": id_number, "full_name": name, "date_of_birth": dob,
                "beneficiary_group": group, "benefit_level": level, "facility_code": facility_code,
                "valid_from": vfrom, "valid_to": vto, "status": "active"})])
        store.set_meta(tx, "roster.as_of", as_of.isoformat())
    return len(ROSTER)


def seed_staff(db: store.Database) -> None:
    """The demo's two accounts (once: a second demo run on the same data keeps them)."""
    with store.transaction(db) as tx:
        if not staff.list_staff(tx):
            staff.add(tx, *DEMO_STAFF, is_admin=True)
            staff.add(tx, *DEMO_RECEPTIONIST)


def roster_date(today: date) -> date:
    return today - timedelta(days=1)


def _hex(text: str) -> str:
    return text.encode("utf-8").hex()


# A new-layout BHYT QR (16 fields + "$"); name, address and issuing place are hex UTF-8.
BHYT_QR = "|".join([
    "4012345678", _hex("Phạm Thị Hoa"), "07/08/1960", "2", "-", "40 - 123", "01/01/2026", "-",
    "15/12/2025", "01014012345678", "-", "4", " 01/01/2021", "a1b2c3d4e5f6a7b8-7102", "3", _hex("Nghệ An"), "$"])
