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
written to `staff_events` and to the hash-chained audit log. No Qt, no SQL
(kiosk.store.staff).

Public API (each account step takes a unit of work, see kiosk.services; `now`
defaults to its clock): :func:`list_staff`, :func:`get`, :func:`officer_id_number`,
:func:`add`, :func:`set_disabled`, :func:`reset_pin`, :func:`login` (→
:class:`LoginResult`); the PIN rules :func:`check_pin_policy`,
:func:`normalise_pin`, :func:`hash_pin`, :func:`verify_pin`; :class:`LoginPolicy`,
:class:`StaffAccount`, :class:`StaffError`.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from importlib import resources

from kiosk import store
from kiosk.clock import iso_utc
from kiosk.config import Config
from kiosk.documents import fields as F
from kiosk.documents.errors import ParseError
from kiosk.errors import ReasonError
from kiosk.logs import event
from kiosk.masking import mask_id
from kiosk.privacy import audit, datakey
from kiosk.services import UnitOfWork, now_of, transaction
from kiosk.store import staff as rows
from kiosk.store.staff import DuplicateStaff, StaffRecord

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

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "full_name": self.full_name, "masked_id": self.masked_id,
                "is_admin": self.is_admin, "disabled": self.disabled, "locked_until": self.locked_until}


@dataclass(frozen=True)
class LoginPolicy:
    """How many wrong PINs lock an account, and for how long the first lockout lasts."""

    max_attempts: int = MAX_ATTEMPTS
    lockout: timedelta = LOCKOUT

    @classmethod
    def from_config(cls, cfg: Config) -> "LoginPolicy":
        return cls(int(cfg["staff.max_pin_attempts"]), timedelta(minutes=int(cfg["staff.lockout_minutes"])))

    def lockout_for(self, failed: int) -> timedelta:
        """The lockout after `failed` wrong PINs in a row: the first after max_attempts, then doubling."""
        n = failed // self.max_attempts - 1
        return min(self.lockout * (1 << max(0, min(n, 20))), max(MAX_LOCKOUT, self.lockout))


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

def _account(r: StaffRecord, key: datakey.DataKey | None) -> StaffAccount:
    return StaffAccount(id=r.id, full_name=r.full_name, masked_id=mask_id(datakey.reveal("staff.id_number",
                                                                                          r.id_number, key)),
                        is_admin=r.is_admin, disabled=r.disabled, locked_until=r.locked_until)


def list_staff(db: store.Executor, *, include_disabled: bool = True) -> list[StaffAccount]:
    return [_account(r, db.key) for r in rows.list_all(db, include_disabled=include_disabled)]


def get(db: store.Executor, staff_id: int) -> StaffAccount:
    r = rows.get(db, staff_id)
    if r is None:
        raise StaffError("unknown_staff", f"no staff account {staff_id}")
    return _account(r, db.key)


def officer_id_number(db: store.Executor, staff_id: int) -> str:
    """The officer's full ID number, for the national lookup only (never for screens or logs)."""
    r = rows.get(db, staff_id)
    if r is None:
        raise StaffError("unknown_staff")
    number: str = datakey.reveal("staff.id_number", r.id_number, db.key)  # sealed at rest under the data key
    return number


def _require_admin(db: store.Executor, by: int | None) -> None:
    if by is None:
        return  # the command line on the device (root) bootstraps the first administrator
    acct = get(db, by)
    if not acct.is_admin or acct.disabled:
        raise StaffError("not_admin", "only an administrator may manage staff accounts")


# staff_events action → audit-log action
_AUDITED = {"added": "account_added", "added_admin": "account_added", "disabled": "account_disabled",
            "enabled": "account_enabled", "pin_reset": "account_pin_reset", "locked_out": "account_locked"}


def _log(tx: store.Tx, staff_id: int, by: int | None, action: str, now: datetime, *, actor: str | None = None,
         details: dict[str, object] | None = None) -> None:
    rows.record_event(tx, staff_id, by, action, iso_utc(now))
    event(log, "staff_" + action, staff_id=staff_id, by=by if by is not None else "-")
    if actor is None:
        actor = f"staff:{by}" if by is not None else audit.default_actor()
    audit.record(tx, actor=actor, action=_AUDITED[action], record_kind="staff", record_id=staff_id,
                 purpose=AUDIT_PURPOSE if action != "locked_out" else "too many wrong PINs",
                 details={"event": action, **(details or {})}, now=now)


def add(db: UnitOfWork, full_name: str, id_number: str, pin: str, now: datetime | None = None, *,
        is_admin: bool = False, by: int | None = None, birth_date: str | None = None) -> StaffAccount:
    """Add an account. `birth_date` (dd/mm/yyyy or yyyy-mm-dd) lets the PIN policy refuse it as a PIN."""
    full_name = " ".join((full_name or "").split())
    with transaction(db) as tx:
        now = now_of(tx, now)
        _require_admin(tx, by)
        if not full_name:
            raise StaffError("name_empty", "the staff member's name is empty")
        id_number = normalise_id_number(id_number)
        birth = _birth_date(birth_date)
        pin = check_pin_policy(pin, is_admin=is_admin, birth_date=birth, id_number=id_number)
        # The ID number is sealed at rest (random nonce), so the UNIQUE constraint cannot see duplicates:
        # compare the opened values (a station has a handful of accounts).
        if any(datakey.reveal("staff.id_number", v, tx.key) == id_number for v in rows.id_numbers(tx)):
            raise StaffError("id_taken", "a staff account with this ID number exists")
        try:
            staff_id = rows.insert(tx, full_name, datakey.conceal("staff.id_number", id_number, tx.key),
                                   hash_pin(pin), is_admin, datakey.conceal("staff.birth_date", birth, tx.key),
                                   iso_utc(now))
        except DuplicateStaff:
            raise StaffError("id_taken", "a staff account with this ID number exists") from None
        _log(tx, staff_id, by, "added_admin" if is_admin else "added", now, details={"is_admin": is_admin})
        return get(tx, staff_id)


def set_disabled(db: UnitOfWork, staff_id: int, disabled: bool, now: datetime | None = None, *,
                 by: int | None) -> StaffAccount:
    with transaction(db) as tx:
        now = now_of(tx, now)
        _require_admin(tx, by)
        if disabled and staff_id == by:
            raise StaffError("self_disable", "an administrator cannot disable their own account")
        get(tx, staff_id)
        rows.set_disabled(tx, staff_id, disabled, iso_utc(now))
        _log(tx, staff_id, by, "disabled" if disabled else "enabled", now)
        return get(tx, staff_id)


def reset_pin(db: UnitOfWork, staff_id: int, new_pin: str, now: datetime | None = None, *,
              by: int | None) -> StaffAccount:
    """A new PIN (checked against the policy) and the lockout lifted, counter and escalation included."""
    with transaction(db) as tx:
        now = now_of(tx, now)
        _require_admin(tx, by)
        r = rows.secrets_of(tx, staff_id)
        if r is None:
            raise StaffError("unknown_staff", f"no staff account {staff_id}")
        pin = check_pin_policy(new_pin, is_admin=r.is_admin,
                               birth_date=datakey.reveal("staff.birth_date", r.birth_date, tx.key),
                               id_number=datakey.reveal("staff.id_number", r.id_number, tx.key))
        rows.set_pin(tx, staff_id, hash_pin(pin), iso_utc(now))
        _log(tx, staff_id, by, "pin_reset", now)
        return get(tx, staff_id)


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


def login(db: UnitOfWork, staff_id: int, pin: str, now: datetime | None = None, *,
          max_attempts: int | None = None, lockout: timedelta | None = None,
          policy: LoginPolicy | None = None) -> LoginResult:
    """Check a PIN. Returns (not raises) a refusal, so the transaction commits the attempt counter:
    a wrong PIN must count even across restarts.

    Every call runs scrypt once, so an unknown, disabled or locked account answers
    in the time a wrong PIN takes."""
    policy = policy or LoginPolicy(max_attempts or MAX_ATTEMPTS, lockout or LOCKOUT)
    with transaction(db) as tx:
        now = now_of(tx, now)
        r = rows.secrets_of(tx, staff_id)
        if r is None:
            verify_pin(pin or "", _dummy_hash())
            return _refused(staff_id, "unknown_staff")
        right = verify_pin(pin or "", r.pin_hash)  # before looking at the state: same cost on every path
        if r.disabled:
            return _refused(staff_id, "disabled")
        if r.locked_until and r.locked_until > iso_utc(now):
            return _refused(staff_id, "locked")
        if right:
            rows.signed_in(tx, staff_id)
            event(log, "staff_login", staff_id=staff_id)
            return LoginResult(get(tx, staff_id))
        failed = r.failed_attempts + 1
        if failed % policy.max_attempts == 0:
            # The counter carries on past a lockout (only a correct PIN or a reset clears it): each
            # further lockout doubles, so guessing stays at a few tries a day.
            span = policy.lockout_for(failed)
            until = iso_utc(now + span)
            rows.failed_sign_in(tx, staff_id, failed, until)
            _log(tx, staff_id, None, "locked_out", now, actor="system:staff_login",
                 details={"failed_attempts": failed, "minutes": int(span.total_seconds() // 60), "until": until})
            return _refused(staff_id, "locked")
        rows.failed_sign_in(tx, staff_id, failed)
        return _refused(staff_id, "wrong_pin", attempt=failed)


def _refused(staff_id: int, cause: str, **kw: object) -> LoginResult:
    event(log, "staff_login_refused", logging.WARNING, staff_id=staff_id, cause=cause, **kw)
    return LoginResult(None, REFUSED, cause)
