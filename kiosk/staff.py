"""Staff accounts for the receptionist console: who is at the desk, proven by a PIN.

PINs are stored only as scrypt hashes (a slow, memory-hard KDF: a stolen
database does not give the PINs back cheaply). Too many wrong PINs lock the
account for a while; an administrator adds, disables and resets accounts.
Every account change is written to `staff_events`. No Qt here.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from kiosk import datakey
from kiosk.clock import iso_utc
from kiosk.errors import ReasonError
from kiosk.logs import event
from kiosk.masking import mask_id

log = logging.getLogger(__name__)

# scrypt cost: ~16 MiB and ~50 ms on a Raspberry Pi 4; raise n as devices get faster.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1
MAX_ATTEMPTS = 5
LOCKOUT = timedelta(minutes=5)
_PIN = re.compile(r"\d{4,8}")
_ID12 = re.compile(r"\d{12}")


class StaffError(ReasonError):
    """A refused staff action (sign-in, account administration)."""


@dataclass(frozen=True)
class StaffAccount:
    id: int
    full_name: str
    masked_id: str
    is_admin: bool
    disabled: bool
    locked_until: str | None = None

    def to_json(self) -> dict:
        return {"id": self.id, "full_name": self.full_name, "masked_id": self.masked_id,
                "is_admin": self.is_admin, "disabled": self.disabled, "locked_until": self.locked_until}


def hash_pin(pin: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    check_pin_form(pin)
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(pin.encode(), salt=salt, n=n, r=r, p=p, maxmem=128 * 1024 * 1024, dklen=32)
    return f"scrypt${n}${r}${p}${salt.hex()}${digest.hex()}"


def verify_pin(pin: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        got = hashlib.scrypt(pin.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
                             maxmem=128 * 1024 * 1024, dklen=len(digest) // 2)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got.hex(), digest)


def check_pin_form(pin: str) -> None:
    if not _PIN.fullmatch(pin or ""):
        raise StaffError("pin_form", "a PIN is 4 to 8 digits")


def _row(r) -> StaffAccount:
    return StaffAccount(id=r[0], full_name=r[1], masked_id=mask_id(datakey.reveal("staff.id_number", r[2])),
                        is_admin=bool(r[3]),
                        disabled=bool(r[4]), locked_until=r[5])


_COLS = "id, full_name, id_number, is_admin, disabled, locked_until"


def list_staff(conn: sqlite3.Connection, *, include_disabled: bool = True) -> list[StaffAccount]:
    sql = f"SELECT {_COLS} FROM staff" + ("" if include_disabled else " WHERE disabled = 0") + " ORDER BY full_name"
    return [_row(r) for r in conn.execute(sql)]


def get(conn: sqlite3.Connection, staff_id: int) -> StaffAccount:
    r = conn.execute(f"SELECT {_COLS} FROM staff WHERE id = ?", [staff_id]).fetchone()
    if r is None:
        raise StaffError("unknown_staff", f"no staff account {staff_id}")
    return _row(r)


def officer_id_number(conn: sqlite3.Connection, staff_id: int) -> str:
    """The officer's full ID number, for the national lookup only (never for screens or logs)."""
    r = conn.execute("SELECT id_number FROM staff WHERE id = ?", [staff_id]).fetchone()
    if r is None:
        raise StaffError("unknown_staff")
    return datakey.reveal("staff.id_number", r[0])  # sealed at rest under the device data key


def _require_admin(conn: sqlite3.Connection, by: int | None) -> None:
    if by is None:
        return  # the command line on the device (root) bootstraps the first administrator
    acct = get(conn, by)
    if not acct.is_admin or acct.disabled:
        raise StaffError("not_admin", "only an administrator may manage staff accounts")


def _log(conn, staff_id: int, by: int | None, action: str, now: datetime) -> None:
    conn.execute("INSERT INTO staff_events(staff_id, by_staff, action, at) VALUES (?, ?, ?, ?)",
                 [staff_id, by, action, iso_utc(now)])
    event(log, "staff_" + action, staff_id=staff_id, by=by if by is not None else "-")


def add(conn: sqlite3.Connection, full_name: str, id_number: str, pin: str, now: datetime, *,
        is_admin: bool = False, by: int | None = None) -> StaffAccount:
    _require_admin(conn, by)
    full_name = " ".join((full_name or "").split())
    if not full_name:
        raise StaffError("name_empty", "the staff member's name is empty")
    if not _ID12.fullmatch(id_number or ""):
        raise StaffError("id_form", "an ID number is 12 digits")
    # The ID number is sealed at rest (random nonce), so the UNIQUE constraint cannot see duplicates:
    # compare the opened values (a station has a handful of accounts).
    if any(datakey.reveal("staff.id_number", v) == id_number for (v,) in conn.execute("SELECT id_number FROM staff")):
        raise StaffError("id_taken", "a staff account with this ID number exists")
    pin_hash = hash_pin(pin)
    try:
        cur = conn.execute(
            "INSERT INTO staff(full_name, id_number, pin_hash, is_admin, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?)", [full_name, datakey.conceal("staff.id_number", id_number,
                                                                     datakey.key_for(conn)),
                                          pin_hash, int(is_admin), iso_utc(now), iso_utc(now)])
    except sqlite3.IntegrityError:
        raise StaffError("id_taken", "a staff account with this ID number exists") from None
    _log(conn, cur.lastrowid, by, "added_admin" if is_admin else "added", now)
    return get(conn, cur.lastrowid)


def set_disabled(conn: sqlite3.Connection, staff_id: int, disabled: bool, now: datetime, *,
                 by: int | None) -> StaffAccount:
    _require_admin(conn, by)
    if disabled and staff_id == by:
        raise StaffError("self_disable", "an administrator cannot disable their own account")
    get(conn, staff_id)
    conn.execute("UPDATE staff SET disabled = ?, updated_at = ? WHERE id = ?", [int(disabled), iso_utc(now), staff_id])
    _log(conn, staff_id, by, "disabled" if disabled else "enabled", now)
    return get(conn, staff_id)


def reset_pin(conn: sqlite3.Connection, staff_id: int, new_pin: str, now: datetime, *, by: int | None) -> StaffAccount:
    _require_admin(conn, by)
    get(conn, staff_id)
    conn.execute("UPDATE staff SET pin_hash = ?, failed_attempts = 0, locked_until = NULL, updated_at = ? "
                 "WHERE id = ?", [hash_pin(new_pin), iso_utc(now), staff_id])
    _log(conn, staff_id, by, "pin_reset", now)
    return get(conn, staff_id)


@dataclass(frozen=True)
class LoginResult:
    account: StaffAccount | None
    reason: str = ""  # "" | "wrong_pin" | "locked" | "disabled" | "unknown_staff"
    attempts_left: int = 0
    locked_until: str | None = None

    @property
    def ok(self) -> bool:
        return self.account is not None


def login(conn: sqlite3.Connection, staff_id: int, pin: str, now: datetime, *,
          max_attempts: int = MAX_ATTEMPTS, lockout: timedelta = LOCKOUT) -> LoginResult:
    """Check a PIN. Returns (not raises) a refusal, so the caller's transaction
    commits the attempt counter: a wrong PIN must count even across restarts."""
    r = conn.execute("SELECT pin_hash, failed_attempts, locked_until, disabled FROM staff WHERE id = ?",
                     [staff_id]).fetchone()
    if r is None:
        return LoginResult(None, "unknown_staff")
    pin_hash, failed, locked_until, disabled = r
    if disabled:
        return LoginResult(None, "disabled")
    if locked_until and locked_until > iso_utc(now):
        return LoginResult(None, "locked", locked_until=locked_until)
    if verify_pin(pin or "", pin_hash):
        conn.execute("UPDATE staff SET failed_attempts = 0, locked_until = NULL WHERE id = ?", [staff_id])
        event(log, "staff_login", staff_id=staff_id)
        return LoginResult(get(conn, staff_id))
    failed += 1
    if failed >= max_attempts:
        until = iso_utc(now + lockout)
        conn.execute("UPDATE staff SET failed_attempts = 0, locked_until = ? WHERE id = ?", [until, staff_id])
        _log(conn, staff_id, None, "locked_out", now)
        return LoginResult(None, "locked", locked_until=until)
    conn.execute("UPDATE staff SET failed_attempts = ? WHERE id = ?", [failed, staff_id])
    event(log, "staff_login_failed", logging.WARNING, staff_id=staff_id, attempt=failed)
    return LoginResult(None, "wrong_pin", attempts_left=max_attempts - failed)
