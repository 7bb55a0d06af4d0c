"""The SQLite store: connection settings, versioned migrations, transactions.

Every connection runs in WAL mode with `synchronous=FULL` (what a person
entered must survive a power cut) and foreign keys on. Python's implicit
transactions are switched off (`isolation_level=None`); writes go through
:func:`transaction`, which takes the write lock up front (`BEGIN IMMEDIATE`).

Several kiosk processes open the same database (at boot the UI and
`kiosk-sync` start together): opening, switching to WAL and migrating wait
for one another. SQLite answers some of these with SQLITE_BUSY at once,
without calling the busy handler (changing the journal mode, WAL recovery),
so :func:`connect` retries them with a bounded, logged backoff; and
:func:`migrate` applies every pending migration in one `BEGIN IMMEDIATE`
transaction that re-reads `user_version` under the lock, so exactly one
process migrates and the others find the work done.
"""

from __future__ import annotations

import logging
import random
import re
import sqlite3
import time
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Iterator

import sqlite_utils

from kiosk.errors import KioskError, UnavailableError
from kiosk.logs import event

log = logging.getLogger(__name__)
_MIGRATION_NAME = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql")


class MigrationError(KioskError):
    pass


def all_migrations() -> list[tuple[int, str, str]]:
    """(version, name, sql) for every migration shipped, in order."""
    found = []
    for entry in resources.files("kiosk.store.migrations").iterdir():
        m = _MIGRATION_NAME.fullmatch(entry.name)
        if m:
            found.append((int(m.group(1)), m.group(2), entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"two migrations share a version number: {versions}")
    return found


def _busy(e: sqlite3.Error) -> bool:
    """SQLITE_BUSY / SQLITE_LOCKED (and their extended codes): another connection holds the lock."""
    code = getattr(e, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    text = str(e).lower()
    return "locked" in text or "busy" in text


class _Waiter:
    """A bounded wait for a lock another process holds: jittered backoff, a log line on the first wait and then
    every ~5 s, and UnavailableError once `timeout` seconds have passed."""

    def __init__(self, what: str, path: Path, timeout: float):
        self.what, self.path, self.timeout = what, path, timeout
        self.start = time.monotonic()
        self.tries = 0
        self.logged_at = None

    def wait(self, e: sqlite3.Error) -> None:
        waited = time.monotonic() - self.start
        if waited >= self.timeout:
            event(log, "database_busy_gave_up", logging.ERROR, step=self.what, tries=self.tries,
                  waited_s=round(waited, 1))
            raise UnavailableError(f"cannot open the database {self.path}: another process kept it locked for "
                                   f"{waited:.0f} s ({self.what}: {e})") from None
        if self.logged_at is None or waited - self.logged_at >= 5:
            event(log, "database_busy_waiting", logging.WARNING, step=self.what, tries=self.tries,
                  waited_s=round(waited, 1))
            self.logged_at = waited
        self.tries += 1
        delay = min(0.5, 0.01 * 2 ** min(self.tries, 6)) * random.uniform(0.5, 1.5)
        time.sleep(min(delay, max(0.0, self.timeout - waited)))


def connect(path: Path | str, *, migrate_now: bool = True, timeout: float = 30.0) -> sqlite_utils.Database:
    path = Path(path)
    if str(path) != ":memory:":
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise UnavailableError(f"cannot create the data directory {path.parent}: {e.strerror}") from None
    waiter = _Waiter("open", path, timeout)
    while True:
        conn = None
        try:
            conn = sqlite3.connect(str(path), timeout=timeout, isolation_level=None, check_same_thread=False)
            conn.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
            # Changing the journal mode can answer SQLITE_BUSY without waiting: only ask when it is needed.
            row = conn.execute("PRAGMA journal_mode").fetchone()
            if (row[0] if row else "").lower() != "wal" and str(path) != ":memory:":
                row = conn.execute("PRAGMA journal_mode=WAL").fetchone()
                mode = (row[0] if row else "no answer").lower()
                if mode != "wal":  # SQLite could not switch (it says which mode it kept)
                    raise sqlite3.OperationalError(f"database is locked (journal mode stayed {mode})")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            break
        except sqlite3.Error as e:
            if conn is not None:
                conn.close()
            if not _busy(e):
                raise UnavailableError(f"cannot open the database {path}: {e}") from None
            waiter.wait(e)
    db = sqlite_utils.Database(conn)
    if migrate_now:
        migrate(db, timeout=timeout)
    return db


def schema_version(db: sqlite_utils.Database) -> int:
    return db.execute("PRAGMA user_version").fetchone()[0]


def migrate(db: sqlite_utils.Database, *, timeout: float = 30.0) -> list[int]:
    """Apply pending migrations; returns the versions this process applied.

    All pending migrations run in one `BEGIN IMMEDIATE` transaction that
    re-reads `user_version` under the write lock: when several processes
    open a fresh database together, one migrates and the others wait, then
    find nothing left to do. A failing migration rolls everything back,
    leaving the previous schema and `user_version` intact.
    """
    migrations = all_migrations()
    conn = db.conn
    waiter = _Waiter("migrate", Path(db.conn.execute("PRAGMA database_list").fetchone()[2] or ":memory:"), timeout)
    while True:
        try:
            if not any(v > schema_version(db) for v, _, _ in migrations):
                return []
            conn.execute("BEGIN IMMEDIATE")
            break
        except sqlite3.Error as e:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if not _busy(e):
                raise MigrationError(f"cannot start the database migration: {e}") from None
            waiter.wait(e)
    applied: list[tuple[int, str]] = []
    version, name = 0, "?"
    try:
        # Re-read under the write lock: another process may have migrated meanwhile.
        current = conn.execute("PRAGMA user_version").fetchone()[0]
        for version, name, sql in migrations:
            if version <= current:
                continue
            for statement in _statements(sql):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version={version}")
            applied.append((version, name))
        conn.execute("COMMIT")
    except sqlite3.Error as e:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        event(log, "migration_failed", logging.ERROR, version=version, name=name, error=type(e).__name__)
        raise MigrationError(f"database migration {version:04d}_{name} failed: {e}") from None
    for version, name in applied:
        event(log, "migration_applied", version=version, name=name)
    return [v for v, _ in applied]


def _statements(sql: str) -> Iterator[str]:
    # sqlite3.complete_statement tells where a statement really ends (triggers contain ';').
    buf = ""
    for line in sql.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                yield buf
            buf = ""
    if buf.strip() and not buf.strip().startswith("--"):
        yield buf


@contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[sqlite3.Connection]:
    """One write transaction: everything inside commits together or not at all."""
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    else:
        try:
            conn.execute("COMMIT")
        except sqlite3.OperationalError as e:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if "full" in str(e).lower():
                raise UnavailableError("the storage is full: nothing was saved; free space and try again") from None
            raise


def get_meta(db: sqlite_utils.Database, key: str, default: str | None = None) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    return row[0] if row else default


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                 [key, value])


def tables(conn: sqlite3.Connection) -> set[str]:
    """Names of the tables in this database (optional features add theirs by migration)."""
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def referencing(conn: sqlite3.Connection, parent: str) -> list[tuple[str, str]]:
    """(table, column) pairs that hold a foreign key to `parent`."""
    out = []
    for t in sorted(tables(conn)):
        for fk in conn.execute(f"PRAGMA foreign_key_list('{t}')"):
            if fk[2] == parent:
                out.append((t, fk[3]))
    return out
