"""`kiosk person export|erase --id-number ID`: a person's access and erasure requests (administrators only)."""

from __future__ import annotations

import json
import os
import re
import sys

from kiosk.cli import add_json
from kiosk.errors import UsageError

_ID12 = re.compile(r"[0-9]{12}", re.ASCII)


def _account(text: str) -> int:
    from kiosk.cli.commands.staff import account_number
    return account_number(text)


def add_admin_options(p) -> None:
    p.add_argument("--staff", type=_account, metavar="ACCOUNT",
                   help="administrator's staff account id (PIN from $KIOSK_STAFF_PIN or asked); "
                        "without it, only root on the device may run this")


def authorize_admin(ctx, db, now) -> str:
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
        import getpass
        pin = getpass.getpass(f"PIN for staff account {staff_id}: ")
    from kiosk import store
    from kiosk.services import staff
    with store.transaction(db) as conn:  # commit the attempt counter whatever the outcome
        # The configured lockout (staff.max_pin_attempts, staff.lockout_minutes), as at the console.
        result = staff.login(conn, staff_id, pin, now, policy=staff.LoginPolicy.from_config(ctx.config))
    if not result.ok:
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


def _prepare(ctx):
    from kiosk.privacy import datakey
    from kiosk.clock import SystemClock
    from kiosk.documents.fields import typed
    id_number = "".join(typed(ctx.args.id_number).split())  # full-width digits typed by an IME count as ASCII
    if not _ID12.fullmatch(id_number):
        raise UsageError("--id-number: expected the 12-digit personal ID number")
    datakey.load(ctx.config)
    db = ctx.db()
    now = SystemClock().now()
    return id_number, db, now, authorize_admin(ctx, db, now)


def export(ctx) -> int:
    from kiosk.privacy import person
    id_number, db, now, actor = _prepare(ctx)
    data = person.export(db, id_number, actor=actor, now=now, purpose=ctx.args.purpose or person.PURPOSE_EXPORT)
    # The export is for the person themself: it carries their full data, in JSON either way.
    print(json.dumps(data, ensure_ascii=False, indent=None if ctx.args.json else 2, default=str), file=ctx.stdout)
    return 0


def erase(ctx) -> int:
    from kiosk.privacy import person
    from kiosk.masking import mask_id
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
