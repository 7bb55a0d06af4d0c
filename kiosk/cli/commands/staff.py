"""`kiosk staff list|add|disable|enable|reset-pin`: receptionist accounts for the console.

The first administrator is created on the device (as root, or while no
account exists); after that an administrator's account and PIN authorise changes.
New PINs come from $KIOSK_NEW_PIN or are asked on the terminal, never as arguments,
and must pass the PIN policy (kiosk.services.staff.check_pin_policy). An administrator's
PIN is checked with the configured lockout settings, as at the console.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable

from kiosk import store
from kiosk.cli import add_json
from kiosk.documents.fields import ascii_digits, typed
from kiosk.errors import UsageError
from kiosk.services import staff


def account_number(text: str) -> int:
    """An account id as typed: ASCII digits only (int() alone would take ٣ for 3)."""
    text = typed(text).strip()
    if not ascii_digits(text):
        raise argparse.ArgumentTypeError(f"expected an account number (digits 0-9), got {text!r}")
    return int(text)


def register(sub) -> None:
    p = sub.add_parser("staff", help="staff accounts for the receptionist console")
    psub = p.add_subparsers(dest="staff_command", metavar="ACTION", required=True)
    c = psub.add_parser("list", help="accounts (ID numbers masked)")
    add_json(c)
    c.set_defaults(func=list_cmd)
    c = psub.add_parser("add", help="add an account (PIN from $KIOSK_NEW_PIN or asked)")
    c.add_argument("--name", required=True, help="full name as on the ID card")
    c.add_argument("--id-number", required=True, help="the staff member's 12-digit ID number (for national lookups)")
    c.add_argument("--birth-date", metavar="DD/MM/YYYY", required=True,
                   help="the staff member's birth date (sealed at rest): refused as a PIN in any usual form")
    c.add_argument("--admin", action="store_true", help="an administrator (adds, disables and resets accounts; "
                                                        "a PIN of at least 6 digits)")
    _by(c)
    c.set_defaults(func=add)
    for name, helptext, func in (("disable", "disable an account", disable), ("enable", "enable an account", enable),
                                 ("reset-pin", "set a new PIN and unlock (PIN from $KIOSK_NEW_PIN or asked)",
                                  reset_pin)):
        c = psub.add_parser(name, help=helptext)
        c.add_argument("account", type=account_number, help="account id (see `kiosk staff list`)")
        _by(c)
        c.set_defaults(func=func)


def _by(c) -> None:
    c.add_argument("--staff", type=account_number, metavar="ACCOUNT",
                   help="the administrator making the change (PIN from $KIOSK_STAFF_PIN or asked); "
                        "without it, only root on the device, or anyone while no account exists")
    add_json(c)


def _secret(env: str, prompt: str) -> str:
    value = os.environ.get(env)
    if value is None:
        if not sys.stdin.isatty():
            raise UsageError(f"no PIN: set ${env}, or run from a terminal to be asked")
        value = getpass.getpass(prompt)
    return value


def _authorise(ctx, db: store.Database) -> int | None:
    by: int | None = ctx.args.staff
    if by is None:
        if os.geteuid() == 0 or not staff.list_staff(db):
            return None
        raise UsageError("give --staff ACCOUNT (an administrator), or run as root on the device")
    # The configured lockout (staff.max_pin_attempts, staff.lockout_minutes), as at the console. The sign-in
    # commits its attempt counter in its own transaction, whatever the outcome.
    result = staff.login(db, by, _secret("KIOSK_STAFF_PIN", f"PIN for staff account {by}: "),
                         policy=staff.LoginPolicy.from_config(ctx.config))
    if not result.ok:
        raise UsageError(f"--staff {by}: PIN not accepted")  # never which: unknown, disabled, locked
    return by


def _run(ctx, fn: Callable[[store.Database, int | None], staff.StaffAccount]) -> int:
    db = ctx.db()
    by = _authorise(ctx, db)
    try:
        acct = fn(db, by)
    except staff.StaffError as e:
        raise UsageError(str(e)) from None
    ctx.emit(acct.to_json(), lambda: f"account {acct.id}: {acct.full_name} {acct.masked_id}"
             f"{' (administrator)' if acct.is_admin else ''}{' — disabled' if acct.disabled else ''}")
    return 0


def list_cmd(ctx) -> int:
    rows = staff.list_staff(ctx.db())
    ctx.emit([a.to_json() for a in rows], lambda: "\n".join(
        f"{a.id:4}  {a.full_name}  {a.masked_id}  {'admin' if a.is_admin else 'receptionist'}"
        f"{'  disabled' if a.disabled else ''}" for a in rows) or "no staff accounts")
    return 0


def add(ctx) -> int:
    pin = _secret("KIOSK_NEW_PIN", f"new PIN ({6 if ctx.args.admin else 4}-8 digits): ")
    return _run(ctx, lambda db, by: staff.add(db, ctx.args.name, ctx.args.id_number, pin, is_admin=ctx.args.admin,
                                              by=by, birth_date=ctx.args.birth_date))


def disable(ctx) -> int:
    return _run(ctx, lambda db, by: staff.set_disabled(db, ctx.args.account, True, by=by))


def enable(ctx) -> int:
    return _run(ctx, lambda db, by: staff.set_disabled(db, ctx.args.account, False, by=by))


def reset_pin(ctx) -> int:
    pin = _secret("KIOSK_NEW_PIN", "new PIN (4-8 digits): ")
    return _run(ctx, lambda db, by: staff.reset_pin(db, ctx.args.account, pin, by=by))
