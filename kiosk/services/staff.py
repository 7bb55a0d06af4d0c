"""Staff accounts for the receptionist console: who is at the desk, proven by a PIN.

PINs are stored only as scrypt hashes (a slow, memory-hard KDF: a stolen
database does not give the PINs back cheaply). Trivial PINs are refused
(:func:`check_pin_policy`). Wrong PINs lock the account (`staff.max_pin_attempts`,
`staff.lockout_minutes`, the same settings in the UI and on the command line),
and lockouts escalate: the counter only resets on a correct PIN or an
administrator's reset, and each further lockout lasts twice as long as the one
before, up to a day. A refusal never says why (unknown, disabled, locked or
wrong PIN) and costs the same scrypt run whichever it is. An administrator
adds, disables and resets accounts; every account change and every lockout is
written to `staff_events` and to the hash-chained audit log. No Qt here.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from importlib import resources

from kiosk.privacy import audit
from kiosk.privacy import datakey
from kiosk.clock import iso_utc
from kiosk.documents import fields as F
from kiosk.errors import ReasonError
from kiosk.logs import event
from kiosk.masking import mask_id

log = logging.getLogger(__name__)

# scrypt cost: ~16 MiB and ~50 ms on a Raspberry Pi 4; raise n as devices get faster.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 14, 8, 1
MAX_ATTEMPTS = 5  # the configuration's defaults (staff.max_pin_attempts, staff.lockout_minutes)
LOCKOUT = timedelta(minutes=5)
MAX_LOCKOUT = timedelta(days=1)  # escalation stops doubling here: at worst max_attempts guesses a day
MIN_PIN, MAX_PIN, MIN_ADMIN_PIN = 4, 8, 6
_PIN = re.compile(r"[0-9]{4,8}", re.ASCII)
_ID12 = re.compile(r"[0-9]{12}", re.ASCII)
AUDIT_PURPOSE = "staff account administration"


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


@dataclass(frozen=True)
class LoginPolicy:
    """How many wrong PINs lock an account, and for how long the first lockout lasts."""

    max_attempts: int = MAX_ATTEMPTS
    lockout: timedelta = LOCKOUT

    @classmethod
    def from_config(cls, cfg) -> "LoginPolicy":
        return cls(int(cfg["staff.max_pin_attempts"]), timedelta(minutes=int(cfg["staff.lockout_minutes"])))

    def lockout_for(self, failed: int) -> timedelta:
        """The lockout after `failed` wrong PINs in a row: the first after max_attempts, then doubling."""
        n = failed // self.max_attempts - 1
        return min(self.lockout * (2 ** min(n, 20)), max(MAX_LOCKOUT, self.lockout))


# --- PIN and number form and policy ----------------------------------------------------------------

def normalise_pin(pin: str | None) -> str:
    """What was typed (NFKC: full-width digits count as ASCII), or StaffError pin_form."""
    pin = "".join(F.typed(pin).split())
    if not _PIN.fullmatch(pin):
        raise StaffError("pin_form", f"a PIN is {MIN_PIN} to {MAX_PIN} digits (0-9)")
    return pin


def normalise_id_number(id_number: str | None) -> str:
    number = "".join(F.typed(id_number).split())
    if not _ID12.fullmatch(number):
        raise StaffError("id_form", "an ID number is 12 digits (0-9)")
    return number


def check_pin_form(pin: str) -> None:
    normalise_pin(pin)


@lru_cache(maxsize=1)
def common_pins() -> frozenset[str]:
    """The 100 most common 4-6 digit PINs (kiosk/data/common_pins.txt says where the list comes from)."""
    text = resources.files("kiosk").joinpath("data/common_pins.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def _is_run(pin: str) -> bool:
    steps = {(int(b) - int(a)) % 10 for a, b in zip(pin, pin[1:])}
    return steps in ({1}, {9})  # 1234, 7890, 4321, 0987


def _is_repeated_block(pin: str) -> bool:
    return any(len(pin) % k == 0 and pin == pin[:k] * (len(pin) // k) for k in range(1, len(pin) // 2 + 1))


def birth_date_forms(birth: date) -> set[str]:
    """A birth date as people turn it into PINs: ddmmyy, ddmmyyyy, yyyymmdd, mmddyy, yymmdd, ddmm, yyyy…"""
    d, m, y, yy = f"{birth.day:02d}", f"{birth.month:02d}", f"{birth.year:04d}", f"{birth.year % 100:02d}"
    forms = {d + m + yy, d + m + y, y + m + d, m + d + yy, m + d + y, yy + m + d, d + m, m + d, y, yy + d + m,
             y + d + m, str(birth.day) + str(birth.month) + yy, str(birth.day) + str(birth.month) + y}
    return {f for f in forms if len(f) >= MIN_PIN}


def check_pin_policy(pin: str | None, *, is_admin: bool = False, birth_date: str | date | None = None,
                     id_number: str | None = None) -> str:
    """The normalised PIN, or StaffError naming what is wrong with it (never echoing it).

    Refused: not 4-8 ASCII digits; fewer than 6 for an administrator; one digit
    repeated or a short group repeated (1111, 1212, 123123); a run up or down
    (1234, 4321, 7890); the staff member's birth date in a usual form (also its
    year alone, from the ID number when no birth date is known); one of the 100
    most common PINs.
    """
    pin = normalise_pin(pin)
    if is_admin and len(pin) < MIN_ADMIN_PIN:
        raise StaffError("pin_admin_short", f"an administrator's PIN is at least {MIN_ADMIN_PIN} digits")
    if _is_repeated_block(pin):
        raise StaffError("pin_trivial", "the PIN repeats one digit or a short group of digits")
    if _is_run(pin):
        raise StaffError("pin_trivial", "the PIN is a run of digits up or down")
    forms: set[str] = set()
    if birth_date:
        forms |= birth_date_forms(birth_date if isinstance(birth_date, date) else date.fromisoformat(birth_date))
    if id_number and _ID12.fullmatch(id_number):
        forms.add(str(F.id_birth_year(id_number)))
    if pin in forms:
        raise StaffError("pin_birth_date", "the PIN is the staff member's birth date")
    if pin in common_pins():
        raise StaffError("pin_common", "the PIN is one of the most common PINs")
    return pin


def _birth_date(text: str | None) -> str | None:
    """dd/mm/yyyy (as on the ID card) or yyyy-mm-dd → ISO; None when not given."""
    text = F.typed(text).strip()
    if not text:
        return None
    from kiosk.documents.errors import ParseError
    try:
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text, re.ASCII):
            return F.real_date(int(text[:4]), int(text[5:7]), int(text[8:]), "birth_date")
        return F.dd_mm_yyyy(text, "birth_date")
    except ParseError as e:
        raise StaffError("birth_date_form", str(e)) from None


# --- hashing -------------------------------------------------------------------------------------

def _scrypt(pin: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    return hashlib.scrypt(pin.encode(), salt=salt, n=n, r=r, p=p, maxmem=128 * 1024 * 1024, dklen=dklen)


def hash_pin(pin: str, *, n: int = SCRYPT_N, r: int = SCRYPT_R, p: int = SCRYPT_P) -> str:
    pin = normalise_pin(pin)
    salt = secrets.token_bytes(16)
    return f"scrypt${n}${r}${p}${salt.hex()}${_scrypt(pin, salt, n, r, p, 32).hex()}"


def verify_pin(pin: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        try:
            pin = normalise_pin(pin)
        except StaffError:
            pin = "\0"  # still pay the full cost: a malformed PIN must not answer faster
        got = _scrypt(pin, bytes.fromhex(salt), int(n), int(r), int(p), len(digest) // 2)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got.hex(), digest)


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    # Checked against for unknown accounts, at the same cost as a real one.
    return hash_pin(f"{secrets.randbelow(10 ** 8):08d}")


# --- accounts ------------------------------------------------------------------------------------

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


# staff_events action → audit-log action
_AUDITED = {"added": "account_added", "added_admin": "account_added", "disabled": "account_disabled",
            "enabled": "account_enabled", "pin_reset": "account_pin_reset", "locked_out": "account_locked"}


def _log(conn, staff_id: int, by: int | None, action: str, now: datetime, *, actor: str | None = None,
         details: dict | None = None) -> None:
    conn.execute("INSERT INTO staff_events(staff_id, by_staff, action, at) VALUES (?, ?, ?, ?)",
                 [staff_id, by, action, iso_utc(now)])
    event(log, "staff_" + action, staff_id=staff_id, by=by if by is not None else "-")
    if actor is None:
        actor = f"staff:{by}" if by is not None else audit.default_actor()
    audit.record(conn, actor=actor, action=_AUDITED[action], record_kind="staff", record_id=staff_id,
                 purpose=AUDIT_PURPOSE if action != "locked_out" else "too many wrong PINs",
                 details={"event": action, **(details or {})}, now=now)


def add(conn: sqlite3.Connection, full_name: str, id_number: str, pin: str, now: datetime, *,
        is_admin: bool = False, by: int | None = None, birth_date: str | None = None) -> StaffAccount:
    """Add an account. `birth_date` (dd/mm/yyyy or yyyy-mm-dd) lets the PIN policy refuse it as a PIN."""
    _require_admin(conn, by)
    full_name = " ".join((full_name or "").split())
    if not full_name:
        raise StaffError("name_empty", "the staff member's name is empty")
    id_number = normalise_id_number(id_number)
    birth = _birth_date(birth_date)
    pin = check_pin_policy(pin, is_admin=is_admin, birth_date=birth, id_number=id_number)
    # The ID number is sealed at rest (random nonce), so the UNIQUE constraint cannot see duplicates:
    # compare the opened values (a station has a handful of accounts).
    if any(datakey.reveal("staff.id_number", v) == id_number for (v,) in conn.execute("SELECT id_number FROM staff")):
        raise StaffError("id_taken", "a staff account with this ID number exists")
    key = datakey.key_for(conn)
    try:
        cur = conn.execute(
            "INSERT INTO staff(full_name, id_number, pin_hash, is_admin, birth_date, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)", [full_name, datakey.conceal("staff.id_number", id_number, key),
                                             hash_pin(pin), int(is_admin), datakey.conceal("staff.birth_date", birth, key),
                                             iso_utc(now), iso_utc(now)])
    except sqlite3.IntegrityError:
        raise StaffError("id_taken", "a staff account with this ID number exists") from None
    _log(conn, cur.lastrowid, by, "added_admin" if is_admin else "added", now, details={"is_admin": is_admin})
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
    """A new PIN (checked against the policy) and the lockout lifted, counter and escalation included."""
    _require_admin(conn, by)
    r = conn.execute("SELECT id_number, is_admin, birth_date FROM staff WHERE id = ?", [staff_id]).fetchone()
    if r is None:
        raise StaffError("unknown_staff", f"no staff account {staff_id}")
    pin = check_pin_policy(new_pin, is_admin=bool(r[1]), birth_date=datakey.reveal("staff.birth_date", r[2]),
                           id_number=datakey.reveal("staff.id_number", r[0]))
    conn.execute("UPDATE staff SET pin_hash = ?, failed_attempts = 0, locked_until = NULL, updated_at = ? "
                 "WHERE id = ?", [hash_pin(pin), iso_utc(now), staff_id])
    _log(conn, staff_id, by, "pin_reset", now)
    return get(conn, staff_id)


@dataclass(frozen=True)
class LoginResult:
    """A sign-in's outcome. `reason` is what may be shown: "" or "refused", whatever the cause.

    `cause` ("wrong_pin" | "locked" | "disabled" | "unknown_staff") is for the log and the
    tests only: telling a person which would tell an attacker which accounts exist and
    which are locked.
    """

    account: StaffAccount | None
    reason: str = ""
    cause: str = ""

    @property
    def ok(self) -> bool:
        return self.account is not None


REFUSED = "refused"


def login(conn: sqlite3.Connection, staff_id: int, pin: str, now: datetime, *,
          max_attempts: int | None = None, lockout: timedelta | None = None,
          policy: LoginPolicy | None = None) -> LoginResult:
    """Check a PIN. Returns (not raises) a refusal, so the caller's transaction
    commits the attempt counter: a wrong PIN must count even across restarts.

    Every call runs scrypt once, so an unknown, disabled or locked account answers
    in the time a wrong PIN takes."""
    policy = policy or LoginPolicy(max_attempts or MAX_ATTEMPTS, lockout or LOCKOUT)
    r = conn.execute("SELECT pin_hash, failed_attempts, locked_until, disabled FROM staff WHERE id = ?",
                     [staff_id]).fetchone()
    if r is None:
        verify_pin(pin or "", _dummy_hash())
        return _refused(staff_id, "unknown_staff")
    pin_hash, failed, locked_until, disabled = r
    right = verify_pin(pin or "", pin_hash)  # before looking at the state: same cost on every path
    if disabled:
        return _refused(staff_id, "disabled")
    if locked_until and locked_until > iso_utc(now):
        return _refused(staff_id, "locked")
    if right:
        conn.execute("UPDATE staff SET failed_attempts = 0, locked_until = NULL WHERE id = ?", [staff_id])
        event(log, "staff_login", staff_id=staff_id)
        return LoginResult(get(conn, staff_id))
    failed += 1
    if failed % policy.max_attempts == 0:
        # The counter carries on past a lockout (only a correct PIN or a reset clears it): each
        # further lockout doubles, so guessing stays at a few tries a day.
        span = policy.lockout_for(failed)
        until = iso_utc(now + span)
        conn.execute("UPDATE staff SET failed_attempts = ?, locked_until = ? WHERE id = ?", [failed, until, staff_id])
        _log(conn, staff_id, None, "locked_out", now, actor="system:staff_login",
             details={"failed_attempts": failed, "minutes": int(span.total_seconds() // 60), "until": until})
        return _refused(staff_id, "locked")
    conn.execute("UPDATE staff SET failed_attempts = ? WHERE id = ?", [failed, staff_id])
    return _refused(staff_id, "wrong_pin", attempt=failed)


def _refused(staff_id: int, cause: str, **kw) -> LoginResult:
    event(log, "staff_login_refused", logging.WARNING, staff_id=staff_id, cause=cause, **kw)
    return LoginResult(None, REFUSED, cause)
