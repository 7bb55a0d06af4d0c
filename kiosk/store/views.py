"""Read-only queries for screens and reports: what the console's pages show that no service computes.

Each function takes a `Database` (or a `Tx`) and returns a typed value; none
writes. The UI reaches the store only through these and the services
(the import contract in pyproject.toml): a screen never holds SQL.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.clock import vn_date
from kiosk.store import outbox
from kiosk.store.connection import Executor
from kiosk.store.meta import get_meta


@dataclass(frozen=True)
class SyncSummary:
    """What the console's status line says of sync (`kiosk sync status` has the full picture)."""

    waiting: int  # what the sender still sends by itself ("unsent" in kiosk.store.outbox: queued or sent)
    needs_manual: int  # refused by the hub: a person submits them by hand (pending, but not the sender's work)
    last_success: str | None  # ISO time of the last accepted batch
    token_refused: str | None  # set when the hub refused this device's token; cleared by the next accepted batch


@dataclass(frozen=True)
class ConsoleStatus:
    sync: SyncSummary
    roster_as_of: str | None  # the insurance list's date (yyyy-mm-dd), None before the first import
    unverified_today: int  # today's visits whose insurance could not be checked yet
    clock_synchronised: bool


def sync_summary(db: Executor) -> SyncSummary:
    """Beside each other, as kiosk.store.outbox's docstring asks: what waits to be sent, and what waits on a
    person; the two make up what is pending."""
    status = outbox.sync_status(db)
    return SyncSummary(waiting=outbox.unsent_count(db), needs_manual=outbox.counts(db).get("needs_manual", 0),
                       last_success=status.get("last_success_at"), token_refused=status.get("auth_error"))


def unverified_on(db: Executor, visit_date: str) -> int:
    """Visits of `visit_date` whose latest eligibility answer came from no source (offline, not on the roster)."""
    (n,) = db.execute(
        "SELECT count(*) FROM visits v JOIN eligibility_results e ON e.id = (SELECT max(id) FROM "
        "eligibility_results WHERE visit_id = v.id) WHERE v.visit_date = ? AND e.source = 'none'",
        [visit_date]).fetchone()
    return int(n)


def console_status(db: Executor) -> ConsoleStatus:
    """The console's status page in one read."""
    clock = db.clock
    return ConsoleStatus(sync=sync_summary(db), roster_as_of=get_meta(db, "roster.as_of"),
                         unverified_today=unverified_on(db, vn_date(clock.now()).isoformat()),
                         clock_synchronised=clock.synchronised())


def today(db: Executor) -> str:
    """Today's date at the station (Vietnam time, by the database's clock), yyyy-mm-dd."""
    return vn_date(db.clock.now()).isoformat()
