"""Read-only health queries for `kiosk doctor`: integrity, schema, roster import, outbox backlog, overdue stays.

The doctor may run as root on a kiosk whose database belongs to the kiosk
user, and must change nothing: :func:`open_readonly` opens the file with
SQLite's `mode=ro` (no migration, no journal-mode switch), and every function
here only reads. The caller closes the database.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

from kiosk.store import outbox
from kiosk.store.connection import Connection, Database, Executor
from kiosk.store.meta import tables

# Re-exported so the doctor can catch SQLite's errors without importing sqlite3 (only kiosk.store does).
Error = sqlite3.Error


def open_readonly(path: Path, timeout: float = 5.0) -> Database:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=timeout, isolation_level=None,
                           check_same_thread=False, factory=Connection)
    conn.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
    return Database(conn, path)


@dataclass(frozen=True)
class Integrity:
    quick_check: list[str]  # ["ok"] when intact; else SQLite's first problems
    schema_version: int
    journal_mode: str


def integrity(db: Executor, limit: int = 10) -> Integrity:
    result = [str(r[0]) for r in db.execute("PRAGMA quick_check").fetchall()]
    version = int(db.execute("PRAGMA user_version").fetchone()[0])
    journal = str(db.execute("PRAGMA journal_mode").fetchone()[0])
    return Integrity(result[:limit], version, journal)


@dataclass(frozen=True)
class RosterState:
    cards: int
    recorded: bool  # this schema records imports (roster_import exists)
    kind: str | None = None
    version: int | None = None
    state: str | None = None
    as_of: str | None = None
    finished_at: str | None = None
    started_at: str | None = None

    @property
    def imported(self) -> bool:
        return self.state is not None


def roster_state(db: Executor) -> RosterState:
    """Also for schemas before the import was recorded; with when it started and finished, which
    kiosk.store.roster_import.state does not carry."""
    names = tables(db)
    cards = int(db.execute("SELECT count(*) FROM roster_cards").fetchone()[0]) if "roster_cards" in names else 0
    if "roster_import" not in names:
        return RosterState(cards, recorded=False)
    row = db.execute("SELECT kind, version, state, as_of, finished_at, started_at FROM roster_import "
                     "WHERE id = 1").fetchone()
    if row is None:
        return RosterState(cards, recorded=True)
    kind, version, state, as_of, finished, started = row
    return RosterState(cards, True, kind, version, state, as_of, finished, started)


@dataclass(frozen=True)
class OutboxState:
    counts: dict[str, int]  # rows by state
    oldest_waiting: str | None  # created_at of the oldest row still to be confirmed by the hub
    stays_overdue: int | None  # stay notifications past their legal deadline; None when this schema has none

    @property
    def waiting(self) -> int:
        """The sender's own queue ("unsent" in kiosk.store.outbox); needs_manual is counted apart."""
        return sum(self.counts.get(s, 0) for s in outbox.UNSENT_STATES)


def outbox_state(db: Executor, now_iso: str) -> OutboxState:
    counts = outbox.counts(db)
    oldest = outbox.oldest_unsent(db)
    overdue = None
    if "stay_notifications" in tables(db):
        overdue = int(db.execute(
            "SELECT count(*) FROM stay_notifications WHERE state IN ('pending', 'sent', 'needs_manual') "
            "AND deadline_at < ?", [now_iso]).fetchone()[0])
    return OutboxState(counts, oldest, overdue)
