"""The transactional outbox: what must reach the hub is written beside the record it carries.

Rows are added inside the caller's transaction, so a record and its outbox
row commit together or not at all. The sync process (sync/) works the rows.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from datetime import datetime

from kiosk.clock import iso_utc


def enqueue(conn: sqlite3.Connection, kind: str, record_id: int, payload: dict, now: datetime) -> str:
    """Queue one record for the hub; returns its idempotency key. Call inside a transaction."""
    if not conn.in_transaction:
        raise RuntimeError("outbox.enqueue must run inside the record's transaction")
    key = str(uuid.uuid4())
    from kiosk.privacy.datakey import key_for
    from kiosk.privacy.encryption import seal_payload
    payload = seal_payload(payload, key_for(conn))  # names, ID numbers, reasons sealed at rest; the sender opens them
    conn.execute(
        "INSERT INTO outbox(kind, record_id, idempotency_key, payload, created_at) VALUES (?, ?, ?, ?, ?)",
        [kind, record_id, key, json.dumps(payload, ensure_ascii=False, sort_keys=True), iso_utc(now)])
    return key


def counts(conn: sqlite3.Connection) -> dict[str, int]:
    return dict(conn.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall())
