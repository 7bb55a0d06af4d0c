"""Which columns hold sealed personal data, and converting rows written before encryption.

The list (:data:`SEALED`, kept beside the cipher in kiosk.store.sealing) is the
at-rest half of docs/privacy.md's inventory: every column named there is sealed
with the device data key (kiosk.privacy.datakey) when written and opened only
when read for display, export or sending.
"""

from __future__ import annotations

import json

from kiosk import store
from kiosk.privacy import retention
from kiosk.store import encryption as rows
from kiosk.store import outbox
from kiosk.store.sealing import PAYLOAD_PERSONAL, SEALED, DataKey, seal_payload

__all__ = ["PAYLOAD_PERSONAL", "SEALED", "clear_counts", "seal_existing", "seal_payload"]


def clear_counts(db: store.Executor) -> dict[str, int]:
    """How many rows still hold a personal field in clear, per table (0 everywhere once sealed)."""
    tables = store.tables(db)
    out = {table: rows.clear_count(db, table) for table in SEALED if table in tables}
    if "outbox" in tables:
        out["outbox"] = outbox.clear_visit_payloads(db)
    return out


def seal_existing(db: store.Database, key: DataKey) -> dict[str, int]:
    """Seal every clear personal field (and re-key patients by keyed hash), in one transaction."""
    done: dict[str, int] = {}
    retention.secure_delete(db)
    with store.transaction(db) as tx:
        tables = store.tables(tx)
        for table in SEALED:
            if table in tables:
                done[table] = rows.seal_table(tx, table, key)
        done["patients_rekeyed"] = rows.rekey_patients(tx, key)
        done["outbox"] = _seal_outbox(tx, key)
    retention.scrub(db)  # the clear values were in freed pages and the WAL: make them go
    return done


def _seal_outbox(tx: store.Tx, key: DataKey) -> int:
    n = 0
    for oid, payload in outbox.undelivered_payloads(tx):
        try:
            body = json.loads(payload)
        except ValueError:
            continue
        sealed = seal_payload(body, key)
        if sealed != body:
            outbox.set_payload(tx, oid, sealed)
            n += 1
    return n
