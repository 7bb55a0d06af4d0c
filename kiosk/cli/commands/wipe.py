"""`kiosk wipe`: crypto-shred the device (decommissioning, stolen-device order)."""

from __future__ import annotations

from kiosk.app import open_database
from kiosk.cli import add_json
from kiosk.cli.commands.person import add_admin_options, authorize_admin
from kiosk.clock import SystemClock
from kiosk.errors import UsageError
from kiosk.privacy import wipe as wipe_mod
from kiosk.store import outbox


def register(sub) -> None:
    w = sub.add_parser("wipe", help="destroy the data key, then all data; the kiosk refuses to start until "
                                    "re-provisioned")
    w.add_argument("--yes-destroy-all-data", dest="confirm", action="store_true",
                   help="required: there is no undo (unsynced records are lost unless backed up)")
    w.add_argument("--reason", default="decommissioning", help="recorded in the wipe marker and the log")
    w.add_argument("--force", action="store_true", help="wipe even with records not yet delivered to the hub")
    add_admin_options(w)
    add_json(w)
    w.set_defaults(func=wipe)


def wipe(ctx) -> int:
    if not ctx.args.confirm:
        raise UsageError("kiosk wipe destroys every record on this device: add --yes-destroy-all-data")
    # The wall clock, not the App's: a wipe must work when the data key that build() loads is already gone.
    now = SystemClock().now()
    actor = "os:root"
    if ctx.config.database.exists():
        # An administrator's account opens under the data key; root needs none (the key may be gone already).
        db = ctx.db() if ctx.args.staff is not None else open_database(ctx.config)
        actor = authorize_admin(ctx, db)
        pending = outbox.pending_count(db)
        db.close()
        if pending and not ctx.args.force:
            raise UsageError(f"{pending} records have not reached the hub yet; sync first, back up "
                             "(`kiosk backup`), or add --force to destroy them too")
    else:  # no database to check a staff PIN against: root only
        ctx.args.staff = None
        authorize_admin(ctx, None)
    info = wipe_mod.wipe(ctx.config, reason=ctx.args.reason, actor=actor, now=now)
    ctx.emit(info, f"wiped: data key {'shredded' if info['key_shredded'] else 'was already gone'}, "
                   f"{info['files_destroyed']} files overwritten and deleted; the kiosk will not start until "
                   "re-provisioned (kiosk datakey init --after-wipe)")
    return 0
