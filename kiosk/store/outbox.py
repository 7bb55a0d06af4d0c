"""The transactional outbox: what must reach the hub is written beside the record it carries.

Rows are added inside the caller's transaction, so a record and its outbox
row commit together or not at all. The sync process (sync/) works the rows:
'queued' → (claimed under the write lock) 'sent' → 'acknowledged' on the hub's
answer, or 'needs_manual' with the hub's reason when it refuses the record for
good; 'withdrawn' when the record was taken back before it was sent.

"Pending" has one meaning, here: **not yet delivered** — queued, sent (the hub
has not confirmed it) or needs_manual (the hub refused it; a person must submit
it by hand). A needs_manual row is a record the hub does not hold, so it counts:
a wipe or a restore must not destroy it, and no screen may say "everything is
sent" while one waits on a person. The sender's own work queue is narrower —
queued and sent, the rows it retries by itself — and is called **unsent**
(`unsent_count`, `oldest_unsent`); screens show it as "waiting to send" beside
the needs_manual count.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Sequence

from kiosk.clock import iso_utc
from kiosk.store.connection import Executor
from kiosk.store.sealing import seal_payload

PENDING_STATES = ("queued", "sent", "needs_manual")  # not delivered: the hub does not hold these records
UNSENT_STATES = ("queued", "sent")  # the sender's queue: it will (re)try these by itself
_PENDING = "state IN ('queued', 'sent', 'needs_manual')"
_UNSENT = "state IN ('queued', 'sent')"


def enqueue(tx: Executor, kind: str, record_id: int, payload: dict[str, Any], now: datetime) -> str:
    """Queue one record for the hub; returns its idempotency key. Call inside a transaction."""
    if not tx.in_transaction:
        raise RuntimeError("outbox.enqueue must run inside the record's transaction")
    key = str(uuid.uuid4())
    sealed = seal_payload(payload, tx.key)  # names, ID numbers, reasons sealed at rest; the sender opens them
    tx.execute(
        "INSERT INTO outbox(kind, record_id, idempotency_key, payload, created_at) VALUES (?, ?, ?, ?, ?)",
        [kind, record_id, key, json.dumps(sealed, ensure_ascii=False, sort_keys=True), iso_utc(now)])
    return key


# --- how much is left ------------------------------------------------------------------------------------------

def pending_count(db: Executor) -> int:
    """Rows not yet delivered to the hub (queued, sent, needs_manual): what a wipe or restore would lose."""
    return int(db.execute(f"SELECT count(*) FROM outbox WHERE {_PENDING}").fetchone()[0])


def unsent_count(db: Executor) -> int:
    """Rows the sender still works on by itself (queued, or sent and not yet confirmed)."""
    return int(db.execute(f"SELECT count(*) FROM outbox WHERE {_UNSENT}").fetchone()[0])


def oldest_unsent(db: Executor) -> str | None:
    """When the oldest row the sender still works on was queued (ISO UTC), or None."""
    value: str | None = db.execute(f"SELECT min(created_at) FROM outbox WHERE {_UNSENT}").fetchone()[0]
    return value


def counts(db: Executor) -> dict[str, int]:
    return {str(state): int(n) for state, n in db.execute("SELECT state, count(*) FROM outbox GROUP BY state")}


def counts_by_kind(db: Executor, state: str) -> dict[str, int]:
    """How many rows of each kind are in `state` (the demo compares what the hub acknowledged with the hub)."""
    return {str(kind): int(n) for kind, n in db.execute(
        "SELECT kind, count(*) FROM outbox WHERE state = ? GROUP BY kind", [state])}


def states_of(db: Executor, kind: str, record_id: int) -> list[str]:
    """The states of one record's rows (none: it was never queued)."""
    return [str(r[0]) for r in db.execute("SELECT state FROM outbox WHERE kind = ? AND record_id = ?",
                                          [kind, record_id])]


def deliveries(db: Executor, kind: str, record_id: int) -> list[dict[str, Any]]:
    """The rows that carried one record: state and times, never the payload."""
    cur = db.execute("SELECT kind, record_id, state, created_at, acknowledged_at FROM outbox "
                     "WHERE kind = ? AND record_id = ?", [kind, record_id])
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def delete_for(tx: Executor, kind: str, record_ids: Sequence[int]) -> int:
    """Delete every row of these records, whatever their state (retention and erasure decide when)."""
    n = 0
    for i in range(0, len(record_ids), 500):
        chunk = list(record_ids[i:i + 500])
        marks = ",".join("?" * len(chunk))
        n += tx.execute(f"DELETE FROM outbox WHERE kind = ? AND record_id IN ({marks})", [kind, *chunk]).rowcount
    return n


def delete_acknowledged_before(tx: Executor, cutoff: str, keep_kinds: Sequence[str]) -> int:
    """Acknowledged rows the hub has held since before `cutoff`, except of `keep_kinds` (whose rows go with
    their records)."""
    marks = ",".join("?" * len(keep_kinds))
    return tx.execute(f"DELETE FROM outbox WHERE state = 'acknowledged' AND coalesce(acknowledged_at, created_at) < ? "
                      f"AND kind NOT IN ({marks})", [cutoff, *keep_kinds]).rowcount


def withdraw_queued(tx: Executor, kind: str, record_id: int) -> int:
    """Withdraw a record's rows the sender has not taken yet (state 'queued': it moves a row to 'sent' under
    the same write lock before sending); their payload is dropped. Returns how many were withdrawn."""
    return tx.execute("UPDATE outbox SET state = 'withdrawn', payload = '{}' "
                      "WHERE kind = ? AND record_id = ? AND state = 'queued'", [kind, record_id]).rowcount


# --- the sender's side -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Claimed:
    """A row taken for sending; `payload` as stored (personal values sealed)."""

    id: int
    kind: str
    record_id: int
    idempotency_key: str
    payload: str


def claim(tx: Executor, now: str, limit: int) -> list[Claimed]:
    """Take the next due rows in outbox order and mark them 'sent' (attempts + 1) before anything leaves."""
    rows = [Claimed(int(r[0]), str(r[1]), int(r[2]), str(r[3]), str(r[4])) for r in tx.execute(
        "SELECT id, kind, record_id, idempotency_key, payload FROM outbox "
        f"WHERE {_UNSENT} AND (next_attempt_at IS NULL OR next_attempt_at <= ?) "
        "ORDER BY id LIMIT ?", [now, limit])]
    if rows:
        tx.executemany("UPDATE outbox SET state = 'sent', attempts = attempts + 1, last_attempt_at = ?, "
                       "next_attempt_at = NULL WHERE id = ?", [(now, r.id) for r in rows])
    return rows


def requeue(tx: Executor, ids: Sequence[int], error: str) -> None:
    """The hub surely did not get these rows: back to 'queued' (only rows still 'sent')."""
    tx.executemany("UPDATE outbox SET state = 'queued', last_error = ? WHERE id = ? AND state = 'sent'",
                   [(error, i) for i in ids])


def note_error(tx: Executor, ids: Sequence[int], error: str) -> None:
    """The hub may have got these rows: keep them 'sent' (replayed later under the same key), say why."""
    tx.executemany("UPDATE outbox SET last_error = ? WHERE id = ?", [(error, i) for i in ids])


def acknowledge(tx: Executor, acks: Sequence[tuple[str, str, int]]) -> None:
    """(at, hub reference, row id): delivered. The hub holds the record, so the payload's personal data goes."""
    tx.executemany("UPDATE outbox SET state = 'acknowledged', acknowledged_at = ?, hub_reference = ?, "
                   "payload = '{}', last_error = NULL WHERE id = ?", acks)


def needs_manual(tx: Executor, row_id: int, reason: str) -> None:
    """The hub refused the record for good: a person must submit it by hand."""
    tx.execute("UPDATE outbox SET state = 'needs_manual', last_error = ? WHERE id = ?", [reason, row_id])


def defer(tx: Executor, rows: Sequence[tuple[str, str, int]]) -> None:
    """(retry at, why, row id): the hub asked to come back later (e.g. the same key still in flight)."""
    tx.executemany("UPDATE outbox SET next_attempt_at = ?, last_error = ? WHERE id = ?", rows)


# --- the sync status (last success, last error, a refused token) -----------------------------------------------

def set_sync_status(tx: Executor, **values: str) -> None:
    tx.executemany("INSERT INTO sync_status(key, value) VALUES (?, ?) "
                   "ON CONFLICT(key) DO UPDATE SET value = excluded.value", list(values.items()))


def clear_sync_status(tx: Executor, *keys: str) -> None:
    tx.executemany("DELETE FROM sync_status WHERE key = ?", [(k,) for k in keys])


def sync_status(db: Executor) -> dict[str, str]:
    return {str(k): str(v) for k, v in db.execute("SELECT key, value FROM sync_status")}


# --- sealing rows written before encryption ----------------------------------------------------------------------

def undelivered_payloads(db: Executor) -> list[tuple[int, str]]:
    """(row id, payload) of every row not yet delivered: the ones that still carry personal data."""
    return [(int(r[0]), str(r[1])) for r in db.execute(f"SELECT id, payload FROM outbox WHERE {_PENDING}")]


def set_payload(tx: Executor, row_id: int, payload: dict[str, Any]) -> None:
    tx.execute("UPDATE outbox SET payload = ? WHERE id = ?",
               [json.dumps(payload, ensure_ascii=False, sort_keys=True), row_id])


def clear_visit_payloads(db: Executor) -> int:
    """Visit rows whose patient is still in clear (written before encryption was switched on)."""
    return int(db.execute("SELECT count(*) FROM outbox WHERE kind = 'visit' "
                          "AND payload LIKE '%\"patient\": {%'").fetchone()[0])
