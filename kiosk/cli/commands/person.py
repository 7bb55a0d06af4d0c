"""`kiosk person export|erase --id-number ID`: a person's access and erasure requests (administrators only)."""

from __future__ import annotations

import getpass
import json
import os
import re
import sys
from datetime import datetime

from kiosk import store
from kiosk.cli import add_json
from kiosk.cli.commands.staff import account_number
from kiosk.documents.fields import typed
from kiosk.errors import UsageError
from kiosk.masking import mask_id
from kiosk.privacy import person
from kiosk.services import staff

_ID12 = re.compile(r"[0-9]{12}", re.ASCII)


def add_admin_options(p) -> None:
    p.add_argument("--staff", type=account_number, metavar="ACCOUNT",
                   help="administrator's staff account id (PIN from $KIOSK_STAFF_PIN or asked); "
                        "without it, only root on the device may run this")


def authorize_admin(ctx, db: store.Database | None) -> str:
    """The actor for the audit trail: an administrator's staff account proven by PIN, or root on the device."""
    staff_id = getattr(ctx.args, "staff", None)
    if staff_id is None:
        if os.geteuid() == 0:
            return "os:root"
        raise UsageError("only an administrator may do this: give --staff ACCOUNT (an administrator's account, "
                         "PIN in $KIOSK_STAFF_PIN or typed when asked), or run as root on the device")
    pin = os.environ.get("KIOSK_STAFF_PIN")
    if pin is None:
        if not sys.stdin.isatty():
            raise UsageError("--staff: no PIN (set $KIOSK_STAFF_PIN, or run from a terminal to be asked)")
        pin = getpass.getpass(f"PIN for staff account {staff_id}: ")
    if db is None:
        raise UsageError(f"--staff {staff_id}: no database to check the account against")
    # The configured lockout (staff.max_pin_attempts, staff.lockout_minutes), as at the console. The sign-in
    # commits its attempt counter in its own transaction, whatever the outcome.
    result = staff.login(db, staff_id, pin, policy=staff.LoginPolicy.from_config(ctx.config))
    if not result.ok or result.account is None:
        raise UsageError(f"--staff {staff_id}: PIN not accepted")  # never which: unknown, disabled, locked or wrong
    if not result.account.is_admin:
        raise UsageError(f"--staff {staff_id}: only an administrator may do this")
    return f"staff:{staff_id}"


def register(sub) -> None:
    p = sub.add_parser("person", help="a person's data: access request export, erasure (administrators only)")
    psub = p.add_subparsers(dest="person_command", metavar="ACTION", required=True)
    for name, helptext, func in (
            ("export", "everything the kiosk holds about one person, as JSON (audited)", export),
            ("erase", "erase what the law allows about one person; says what is kept and why (audited)", erase)):
        c = psub.add_parser(name, help=helptext)
        c.add_argument("--id-number", required=True, help="the person's 12-digit ID number")
        c.add_argument("--purpose", help="why (recorded in the audit trail)")
        add_admin_options(c)
        add_json(c)
        c.set_defaults(func=func)


def _prepare(ctx) -> tuple[str, store.Database, datetime, str]:
    id_number = "".join(typed(ctx.args.id_number).split())  # full-width digits typed by an IME count as ASCII
    if not _ID12.fullmatch(id_number):
        raise UsageError("--id-number: expected the 12-digit personal ID number")
    db = ctx.db()
    return id_number, db, ctx.app.clock.now(), authorize_admin(ctx, db)


def export(ctx) -> int:
    id_number, db, now, actor = _prepare(ctx)
    data = person.export(db, id_number, actor=actor, now=now, purpose=ctx.args.purpose or person.PURPOSE_EXPORT)
    # The export is for the person themself: it carries their full data, in JSON either way.
    print(json.dumps(data, ensure_ascii=False, indent=None if ctx.args.json else 2, default=str), file=ctx.stdout)
    return 0


def erase(ctx) -> int:
    id_number, db, now, actor = _prepare(ctx)
    result = person.erase(db, id_number, actor=actor, now=now, purpose=ctx.args.purpose or person.PURPOSE_ERASE)

    def human() -> str:
        if not result["found"]:
            return f"nothing held about ID {mask_id(id_number)}"
        e = result["erased"]
        lines = [f"erased for ID {mask_id(id_number)}: {e['visits']} visits, {e['stay_notifications']} stay "
                 f"notifications, {e['patients']} identity records, {e['outbox']} outbox rows"]
        lines += [f"  kept {k['record']}: {k['reason']}" for k in result["kept"]]
        return "\n".join(lines)
    ctx.emit(result, human)
    return 0
