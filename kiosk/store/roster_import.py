"""The roster import's SQL: its resumable state (`roster_import`), the staging table, bulk card writes.

kiosk.services.roster_import streams and parses the file; this module
writes what it parsed. A snapshot loads into the staging table
(`roster_cards_next`) and is swapped in at the end; a delta writes to
`roster_cards` in place. Every writer takes a `Tx`: each batch commits with
the import's progress, so a re-run resumes where the last commit ended.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Sequence

from kiosk.eligibility.cards import COLUMNS, CardRow
from kiosk.store.connection import Executor, Tx
from kiosk.store.meta import get_meta, set_meta

STAGING = "roster_cards_next"
_INSERT = f"INSERT INTO {{table}}({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
_DELETE = "DELETE FROM roster_cards WHERE sin_key = ? AND card_prefix IS ?"
CardKey = tuple[int, str | None]  # (sin_key, card_prefix): what identifies a card (eligibility.roster.card_identity)


@dataclass(frozen=True)
class ImportState:
    fingerprint: str
    kind: str
    version: int
    since: int | None
    as_of: str | None
    state: str  # "loading" | "done"
    offset: int | None
    line_no: int
    cards: int
    deleted: int
    bad_count: int
    bad_lines: list[dict[str, object]]


def state(db: Executor) -> ImportState | None:
    r = db.execute("SELECT fingerprint, kind, version, since, as_of, state, offset, line_no, cards, deleted, "
                   "bad_count, bad_lines FROM roster_import WHERE id = 1").fetchone()
    if r is None:
        return None
    return ImportState(fingerprint=r[0], kind=r[1], version=int(r[2]), since=r[3], as_of=r[4], state=r[5],
                       offset=r[6], line_no=int(r[7] or 0), cards=int(r[8] or 0), deleted=int(r[9] or 0),
                       bad_count=int(r[10] or 0), bad_lines=json.loads(r[11] or "[]"))


def current_version(db: Executor) -> int | None:
    value = get_meta(db, "roster.version")
    return int(value) if value is not None else None


def meta(db: Executor) -> dict[str, str]:
    """The roster's `roster.*` settings (version, as_of, rows, imported_at)."""
    return {str(k): str(v) for k, v in db.execute("SELECT key, value FROM meta WHERE key LIKE 'roster.%'")}


def card_count(db: Executor) -> int:
    return int(db.execute("SELECT count(*) FROM roster_cards").fetchone()[0])


def upsert_cards(tx: Tx, rows: Sequence[CardRow]) -> None:
    """Insert or replace cards in the live roster."""
    tx.executemany(_DELETE, [(r[0], r[1]) for r in rows])
    tx.executemany(_INSERT.format(table="roster_cards"), rows)


def start(tx: Tx, *, fingerprint: str, kind: str, version: int, since: int | None, as_of: str | None,
          at: str) -> None:
    """A new import: an empty staging table for a snapshot, and the import's state from line 0."""
    tx.execute(f"DROP TABLE IF EXISTS {STAGING}")
    if kind == "snapshot":
        tx.execute(f"CREATE TABLE {STAGING} AS SELECT * FROM roster_cards WHERE 0")
    tx.execute("INSERT OR REPLACE INTO roster_import(id, fingerprint, kind, version, since, as_of, state, "
               "started_at) VALUES (1, ?, ?, ?, ?, ?, 'loading', ?)", [fingerprint, kind, version, since, as_of, at])


def write_batch(tx: Tx, *, delta: bool, rows: Sequence[CardRow], deletes: Sequence[CardKey],
                bad: list[dict[str, object]], max_bad_kept: int, end_offset: int, line_no: int, upserts: int,
                removals: int) -> None:
    """One parsed batch and the import's progress, together: a delta's deletes then its rows into the live
    roster, a snapshot's rows into staging; bad lines kept up to `max_bad_kept` (the count is always exact)."""
    if delta:
        tx.executemany(_DELETE, deletes)
    tx.executemany(_INSERT.format(table="roster_cards" if delta else STAGING), rows)
    kept: list[dict[str, object]] = []
    if bad:
        (old,) = tx.execute("SELECT bad_lines FROM roster_import WHERE id = 1").fetchone()
        kept = json.loads(old)
        kept.extend(bad[:max(0, max_bad_kept - len(kept))])
    tx.execute("UPDATE roster_import SET offset = ?, line_no = ?, cards = cards + ?, deleted = deleted + ?, "
               "bad_count = bad_count + ?, bad_lines = coalesce(?, bad_lines) WHERE id = 1",
               [end_offset, line_no, upserts, removals, len(bad), json.dumps(kept) if bad else None])


# A snapshot's staging table is indexed and de-duplicated in steps, each its own (idempotent) transaction, so a
# check-in waiting for the write lock waits seconds, not the whole build. Index names carry the file's
# fingerprint (`tag`): they move with the table when it is renamed into place.

def index_staging_by_sin(tx: Tx, tag: str) -> None:
    tx.execute(f"CREATE INDEX IF NOT EXISTS roster_sin_{tag} ON {STAGING}(sin_key)")


def dedupe_staging(tx: Tx) -> None:
    """The same card twice in a snapshot: the last line wins (highest rowid, file order)."""
    tx.execute(f"DELETE FROM {STAGING} WHERE rowid IN (SELECT r.rowid FROM {STAGING} r JOIN "
               f"(SELECT sin_key, card_prefix, max(rowid) AS keep FROM {STAGING} "
               "GROUP BY sin_key, card_prefix HAVING count(*) > 1) d ON r.sin_key = d.sin_key "
               "AND r.card_prefix IS d.card_prefix AND r.rowid != d.keep)")


def index_staging_by_id(tx: Tx, tag: str) -> None:
    tx.execute(f"CREATE INDEX IF NOT EXISTS roster_id_{tag} ON {STAGING}(id_key)")


def finish(tx: Tx, *, swap_in: bool, version: int, as_of: str, at: str) -> int:
    """Swap a snapshot's staging table in (`swap_in`), record the roster's version, date and size, close the
    import; returns the cards now in the roster."""
    if swap_in:
        tx.execute("DROP TABLE roster_cards")
        tx.execute(f"ALTER TABLE {STAGING} RENAME TO roster_cards")
    rows = card_count(tx)
    set_meta(tx, "roster.version", str(version))
    set_meta(tx, "roster.as_of", as_of)
    set_meta(tx, "roster.rows", str(rows))
    set_meta(tx, "roster.imported_at", at)
    tx.execute("UPDATE roster_import SET state = 'done', finished_at = ? WHERE id = 1", [at])
    return rows


def set_cache_size(db: Executor, kib: int) -> None:
    """This connection's page cache: bounded, as a snapshot's index builds sort in it."""
    db.execute(f"PRAGMA cache_size={-int(kib)}")


def checkpoint(db: Executor) -> None:
    """Fold the WAL back into the database after a big import; later if a reader holds it."""
    try:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.Error:
        pass
