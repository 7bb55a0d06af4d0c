"""The transactional outbox: what must reach the hub is written beside the record it carries.

Rows are added inside the caller's transaction, so a record and its outbox
row commit together or not at all. The sync process (sync/) works the rows.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from kiosk.clock import iso_utc
from kiosk.privacy.encryption import seal_payload
from kiosk.store.connection import Executor


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


def counts(db: Executor) -> dict[str, int]:
    return {str(state): int(n) for state, n in db.execute("SELECT state, count(*) FROM outbox GROUP BY state")}


def counts_by_kind(db: Executor, state: str) -> dict[str, int]:
    """How many rows of each kind are in `state` (the demo compares what the hub acknowledged with the hub)."""
    return {str(kind): int(n) for kind, n in db.execute(
        "SELECT kind, count(*) FROM outbox WHERE state = ? GROUP BY kind", [state])}


def withdraw_queued(tx: Executor, kind: str, record_id: int) -> int:
    """Withdraw a record's rows the sender has not taken yet (state 'queued': it moves a row to 'sent' under
    the same write lock before sending); their payload is dropped. Returns how many were withdrawn."""
    return tx.execute("UPDATE outbox SET state = 'withdrawn', payload = '{}' "
                      "WHERE kind = ? AND record_id = ? AND state = 'queued'", [kind, record_id]).rowcount
