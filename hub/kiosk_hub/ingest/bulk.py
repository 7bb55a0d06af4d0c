"""Hand-built multi-row INSERTs for the write path (ingest.writes and ingest.changes): one statement per
table per batch, new ids back by RETURNING. Django's bulk_create spent more time compiling 100 rows than the
database spent storing them."""

from __future__ import annotations

import json
from typing import Any

from django.db import connection

JSON_COLUMNS = {"payload", "response"}
CHUNK = 500   # rows per statement: 500 x 13 parameters stays far below SQLite's 32,766


def as_json(value: Any) -> str:
    return json.dumps(value)   # as Django's JSONField writes it


def insert(table: str, rows: list[tuple], cols: tuple[str, ...],
            item_index: list[int] | None) -> list[tuple[int, int]]:
    """INSERT rows (already in database form) in as few statements as possible. With item_index, the new
    ids come back by RETURNING, matched to the items by their idempotency key (unique per device), not by
    row order, which no database promises for RETURNING."""
    pg = connection.vendor == "postgresql"
    one = "(" + ", ".join("%s::jsonb" if pg and c in JSON_COLUMNS else "%s" for c in cols) + ")"
    out: list[tuple[int, int]] = []
    with connection.cursor() as c:
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start:start + CHUNK]
            sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES {', '.join([one] * len(chunk))}"
            params = [v for row in chunk for v in row]
            if item_index is None:
                c.execute(sql, params)
                continue
            c.execute(sql + " RETURNING id, idempotency_key", params)
            ids = dict((k, pk) for pk, k in c.fetchall())
            key_col = cols.index("idempotency_key")
            out += [(i, ids[row[key_col]]) for i, row in zip(item_index[start:start + CHUNK], chunk)]
    return out
