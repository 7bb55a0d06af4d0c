"""The audit log's rows (`audit_log`, migration 0006) and its recorded head in `meta`.

The chain itself — what an entry hashes over, how it is verified, which actions
exist — is kiosk.privacy.audit's; this module only reads and appends rows. An
append needs the write lock held from reading the last entry to writing the
next, so :func:`appending` runs inside the caller's transaction, or opens its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from kiosk.store import meta
from kiosk.store.connection import Executor

HEAD_META_KEY = "audit.head"
_COLUMNS = "seq, at, actor, action, record_kind, record_id, purpose, details, prev_hash, entry_hash"


@dataclass(frozen=True)
class Entry:
    seq: int
    at: str
    actor: str
    action: str
    record_kind: str
    record_id: str
    purpose: str
    details: str
    prev_hash: str
    entry_hash: str

    def to_json(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["details"] = json.loads(self.details)
        return d


def _entry(r: Any) -> Entry:
    return Entry(int(r[0]), *(str(v) for v in r[1:]))


@contextmanager
def appending(db: Executor) -> Iterator[Executor]:
    """The caller's transaction when there is one; else one of its own (`BEGIN IMMEDIATE`) around the append."""
    if db.in_transaction:
        yield db
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def last(db: Executor) -> tuple[int, str] | None:
    """(seq, entry_hash) of the newest entry, or None for an empty log."""
    row = db.execute("SELECT seq, entry_hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    return (int(row[0]), str(row[1])) if row else None


def append(tx: Executor, e: Entry) -> None:
    """Write one entry and make it the recorded head."""
    tx.execute(f"INSERT INTO audit_log({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
               [e.seq, e.at, e.actor, e.action, e.record_kind, e.record_id, e.purpose, e.details, e.prev_hash,
                e.entry_hash])
    meta.set_meta(tx, HEAD_META_KEY, f"{e.seq}:{e.entry_hash}")


def head(db: Executor) -> str | None:
    """The recorded head, "<seq>:<entry_hash>" (None when missing)."""
    return meta.get_meta(db, HEAD_META_KEY)


def entries(db: Executor, since: int = 0, limit: int | None = None) -> list[Entry]:
    sql = f"SELECT {_COLUMNS} FROM audit_log WHERE seq > ? ORDER BY seq"
    args: list[Any] = [since]
    if limit is not None:
        sql += " LIMIT ?"
        args.append(limit)
    return [_entry(r) for r in db.execute(sql, args)]


def walk(db: Executor) -> Iterator[Entry]:
    """Every entry by position (seq is the rowid: a reorder shows up as contents moved between positions)."""
    for r in db.execute(f"SELECT {_COLUMNS} FROM audit_log ORDER BY seq"):
        yield _entry(r)


def for_record(db: Executor, record_kind: str, record_id: str) -> list[Entry]:
    """The entries that name one record."""
    return [_entry(r) for r in db.execute(
        f"SELECT {_COLUMNS} FROM audit_log WHERE record_kind = ? AND record_id = ? ORDER BY seq",
        [record_kind, record_id])]
