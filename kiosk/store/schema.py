"""Versioned migrations: the SQL files in kiosk/store/migrations/, applied once, in order, under one lock.

All pending migrations run in one `BEGIN IMMEDIATE` transaction that re-reads
`user_version` under the write lock: when several processes open a fresh
database together, one migrates and the others wait, then find nothing left to
do. A failing migration rolls everything back, leaving the previous schema and
`user_version` intact.
"""

from __future__ import annotations

import logging
import random
import re
import sqlite3
import time
from importlib import resources
from pathlib import Path
from typing import Iterator

from kiosk.errors import KioskError, UnavailableError
from kiosk.logs import event

log = logging.getLogger("kiosk.store")
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


def busy(e: sqlite3.Error) -> bool:
    """SQLITE_BUSY / SQLITE_LOCKED (and their extended codes): another connection holds the lock."""
    code = getattr(e, "sqlite_errorcode", None)
    if code is not None:
        return int(code) & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    text = str(e).lower()
    return "locked" in text or "busy" in text


class Waiter:
    """A bounded wait for a lock another process holds: jittered backoff, a log line on the first wait and then
    every ~5 s, and UnavailableError once `timeout` seconds have passed."""

    def __init__(self, what: str, path: Path, timeout: float):
        self.what, self.path, self.timeout = what, path, timeout
        self.start = time.monotonic()
        self.tries = 0
        self.logged_at: float | None = None

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


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def apply(conn: sqlite3.Connection, *, timeout: float = 30.0) -> list[int]:
    """Apply pending migrations on `conn`; returns the versions this process applied."""
    migrations = all_migrations()
    waiter = Waiter("migrate", Path(conn.execute("PRAGMA database_list").fetchone()[2] or ":memory:"), timeout)
    while True:
        try:
            if not any(v > schema_version(conn) for v, _, _ in migrations):
                return []
            conn.execute("BEGIN IMMEDIATE")
            break
        except sqlite3.Error as e:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if not busy(e):
                raise MigrationError(f"cannot start the database migration: {e}") from None
            waiter.wait(e)
    applied: list[tuple[int, str]] = []
    version, name = 0, "?"
    try:
        # Re-read under the write lock: another process may have migrated meanwhile.
        current = schema_version(conn)
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
