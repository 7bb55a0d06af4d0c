"""The `meta` table (small named settings: roster version, audit head, key id) and schema introspection."""

from __future__ import annotations

from kiosk.store.connection import Executor


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
