"""The `meta` table (small named settings: roster version, audit head, key id) and schema introspection."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from kiosk.errors import UnavailableError
from kiosk.store.connection import Executor

KEY_ID = "privacy.key_id"  # the id of the data key this database's personal fields are sealed under


def get_meta(db: Executor, key: str, default: str | None = None) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
    if row is None:
        return default
    value: str | None = row[0]
    return value


def set_meta(tx: Executor, key: str, value: str) -> None:
    tx.execute("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
               [key, value])


def tables(db: Executor) -> set[str]:
    """Names of the tables in this database (optional features add theirs by migration)."""
    return {str(r[0]) for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def columns(db: Executor, table: str) -> set[str]:
    return {str(r[1]) for r in db.execute(f"PRAGMA table_info('{table}')")}


def referencing(db: Executor, parent: str) -> list[tuple[str, str]]:
    """(table, column) pairs that hold a foreign key to `parent`."""
    out = []
    for t in sorted(tables(db)):
        for fk in db.execute(f"PRAGMA foreign_key_list('{t}')"):
            if fk[2] == parent:
                out.append((t, str(fk[3])))
    return out


def bind_key_id(db: Executor, key_id: str) -> str:
    """Record `key_id` as the database's data key when none is recorded yet; returns the one recorded."""
    row = db.execute("SELECT value FROM meta WHERE key = ?", [KEY_ID]).fetchone()
    if row is None:
        started = not db.in_transaction
        if started:
            db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT OR IGNORE INTO meta(key, value) VALUES (?, ?)", [KEY_ID, key_id])
        if started:
            db.execute("COMMIT")
        row = db.execute("SELECT value FROM meta WHERE key = ?", [KEY_ID]).fetchone()
    return str(row[0])


def key_id_of(path: Path) -> str | None:
    """The data key id a database file was sealed under, read without writing (no migration, no WAL switch);
    None when the file, the table or the entry is not there."""
    if not path.exists():
        return None
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    except sqlite3.Error as e:
        raise UnavailableError(f"cannot open the database {path}: {e}") from None
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", [KEY_ID]).fetchone()
    except sqlite3.OperationalError as e:
        if "no such table" in str(e):
            return None
        raise UnavailableError(f"cannot read the database {path}: {e}") from None
    finally:
        conn.close()
    return str(row[0]) if row else None
