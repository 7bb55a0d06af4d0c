"""The SQLite store: connection settings, versioned migrations, transactions.

Every connection runs in WAL mode with `synchronous=FULL` (what a person
entered must survive a power cut) and foreign keys on. Python's implicit
transactions are switched off (`isolation_level=None`); writes go through
:func:`transaction`, which takes the write lock up front (`BEGIN IMMEDIATE`).
"""

from __future__ import annotations

import logging
import re
import sqlite3
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


def connect(path: Path | str, *, migrate_now: bool = True, timeout: float = 30.0) -> sqlite_utils.Database:
    path = Path(path)
    if str(path) != ":memory:":
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise UnavailableError(f"cannot create the data directory {path.parent}: {e.strerror}") from None
    try:
        conn = sqlite3.connect(str(path), timeout=timeout, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
    except sqlite3.Error as e:
        raise UnavailableError(f"cannot open the database {path}: {e}") from None
    db = sqlite_utils.Database(conn)
    if migrate_now:
        migrate(db)
    return db


def schema_version(db: sqlite_utils.Database) -> int:
    return db.execute("PRAGMA user_version").fetchone()[0]


def migrate(db: sqlite_utils.Database) -> list[int]:
    """Apply pending migrations, each in its own transaction; returns the versions applied.

    A failing migration rolls back entirely, leaving the previous schema and
    `user_version` intact.
    """
    applied = []
    for version, name, sql in all_migrations():
        if version <= schema_version(db):
            continue
        conn = db.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            # Re-check under the write lock: another process may have migrated meanwhile.
            if conn.execute("PRAGMA user_version").fetchone()[0] >= version:
                conn.execute("ROLLBACK")
                continue
            for statement in _statements(sql):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version={version}")
            conn.execute("COMMIT")
        except sqlite3.Error as e:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            event(log, "migration_failed", logging.ERROR, version=version, name=name, error=type(e).__name__)
            raise MigrationError(f"database migration {version:04d}_{name} failed: {e}") from None
        event(log, "migration_applied", version=version, name=name)
        applied.append(version)
    return applied


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
