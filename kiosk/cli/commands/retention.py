"""`kiosk retention run`: apply the retention periods of docs/privacy.md."""

from __future__ import annotations

import argparse

from kiosk.cli import add_json
from kiosk.clock import parse_iso
from kiosk.errors import UsageError
from kiosk.privacy import retention


def register(sub) -> None:
    r = sub.add_parser("retention", help="purge personal data past its retention period (never unsynced data)")
    rsub = r.add_subparsers(dest="retention_command", metavar="ACTION", required=True)
    run = rsub.add_parser("run", help="delete or reduce to counts what is past its period and acknowledged by the hub")
    run.add_argument("--dry-run", action="store_true", help="count what would go, change nothing")
    run.add_argument("--no-vacuum", action="store_true",
                     help="skip the VACUUM (freed pages are still zeroed by secure_delete)")
    run.add_argument("--now", help=argparse_suppress(), default=None)
    add_json(run)
    run.set_defaults(func=run_retention)


def argparse_suppress() -> str:
    return argparse.SUPPRESS


def run_retention(ctx) -> int:
    if ctx.args.now:
        try:
            now = parse_iso(ctx.args.now)
        except ValueError:
            raise UsageError(f"--now: expected an ISO time, got {ctx.args.now!r}") from None
    else:
        now = ctx.app.clock.now()
    rep = retention.run(ctx.db(), ctx.config, now, dry_run=ctx.args.dry_run, vacuum=not ctx.args.no_vacuum)
    data = rep.to_json()
    verb = "would purge" if rep.dry_run else "purged"
    ctx.emit(data, lambda: (
        f"retention ({'dry run' if rep.dry_run else 'done'}): {verb} {rep.visits_purged} visits, "
        f"{rep.patients_purged} patient identities, {rep.stays_purged} stay notifications, "
        f"{rep.outbox_purged} outbox rows, {rep.cache_purged} cached lookups\n"
        f"  kept: {rep.kept_unsynced} old visits not yet acknowledged by the hub, "
        f"{rep.kept_open_stays} with a stay notification still kept\n"
        f"  database {rep.bytes_before} → {rep.bytes_after} bytes" + (" (vacuumed)" if rep.vacuumed else "")))
    return 0
