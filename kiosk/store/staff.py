"""Staff accounts (`staff`) and their history (`staff_events`): the only module with SQL on them.

The ID number and birth date come and go sealed (kiosk.services.staff seals
and opens them); PINs only as scrypt hashes made by the service.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from kiosk.store.connection import Executor, Tx


class DuplicateStaff(Exception):
    """The staff table refused a row as a duplicate (its UNIQUE constraint)."""


@dataclass(frozen=True)
class StaffRecord:
    id: int
    full_name: str
    id_number: str | None  # sealed
    is_admin: bool
    disabled: bool
    locked_until: str | None


_COLS = "id, full_name, id_number, is_admin, disabled, locked_until"


def _record(r: tuple[int, str, str | None, int, int, str | None]) -> StaffRecord:
    return StaffRecord(r[0], r[1], r[2], bool(r[3]), bool(r[4]), r[5])


def list_all(db: Executor, *, include_disabled: bool = True) -> list[StaffRecord]:
    sql = f"SELECT {_COLS} FROM staff" + ("" if include_disabled else " WHERE disabled = 0") + " ORDER BY full_name"
    return [_record(r) for r in db.execute(sql)]


def get(db: Executor, staff_id: int) -> StaffRecord | None:
    r = db.execute(f"SELECT {_COLS} FROM staff WHERE id = ?", [staff_id]).fetchone()
    return None if r is None else _record(r)


def id_numbers(db: Executor) -> list[str | None]:
    """Every account's ID number as stored (sealed with a random nonce: compare them opened)."""
    return [r[0] for r in db.execute("SELECT id_number FROM staff")]


@dataclass(frozen=True)
class Secrets:
    """What the PIN policy and sign-in need, as stored."""

    id_number: str | None  # sealed
    birth_date: str | None  # sealed
    is_admin: bool
    pin_hash: str
    failed_attempts: int
    locked_until: str | None
    disabled: bool


def secrets_of(db: Executor, staff_id: int) -> Secrets | None:
    r = db.execute("SELECT id_number, birth_date, is_admin, pin_hash, failed_attempts, locked_until, disabled "
                   "FROM staff WHERE id = ?", [staff_id]).fetchone()
    if r is None:
        return None
    return Secrets(r[0], r[1], bool(r[2]), r[3], int(r[4]), r[5], bool(r[6]))


def insert(tx: Tx, full_name: str, id_number: str | None, pin_hash: str, is_admin: bool, birth_date: str | None,
           at: str) -> int:
    """A new account; DuplicateStaff when the table refuses it."""
    try:
        cur = tx.execute(
            "INSERT INTO staff(full_name, id_number, pin_hash, is_admin, birth_date, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)", [full_name, id_number, pin_hash, int(is_admin), birth_date, at, at])
    except sqlite3.IntegrityError:
        raise DuplicateStaff() from None
    return int(cur.lastrowid or 0)


def set_disabled(tx: Tx, staff_id: int, disabled: bool, at: str) -> None:
    tx.execute("UPDATE staff SET disabled = ?, updated_at = ? WHERE id = ?", [int(disabled), at, staff_id])


def set_pin(tx: Tx, staff_id: int, pin_hash: str, at: str) -> None:
    """A new PIN hash, and the lockout lifted (counter and escalation included)."""
    tx.execute("UPDATE staff SET pin_hash = ?, failed_attempts = 0, locked_until = NULL, updated_at = ? "
               "WHERE id = ?", [pin_hash, at, staff_id])


def signed_in(tx: Tx, staff_id: int) -> None:
    tx.execute("UPDATE staff SET failed_attempts = 0, locked_until = NULL WHERE id = ?", [staff_id])


def failed_sign_in(tx: Tx, staff_id: int, failed_attempts: int, locked_until: str | None = None) -> None:
    """Count a wrong PIN; with `locked_until`, lock the account until then."""
    if locked_until is None:
        tx.execute("UPDATE staff SET failed_attempts = ? WHERE id = ?", [failed_attempts, staff_id])
    else:
        tx.execute("UPDATE staff SET failed_attempts = ?, locked_until = ? WHERE id = ?",
                   [failed_attempts, locked_until, staff_id])


def record_event(tx: Tx, staff_id: int, by: int | None, action: str, at: str) -> None:
    tx.execute("INSERT INTO staff_events(staff_id, by_staff, action, at) VALUES (?, ?, ?, ?)",
               [staff_id, by, action, at])
