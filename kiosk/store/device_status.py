"""What the UI process last saw of each device (`device_status`): the only module with SQL on that table.

The kinds and states are checked by kiosk.services.device_status; this
module stores and reads them (no personal data: a kind, a state, a time).
"""

from __future__ import annotations

import sqlite3

from kiosk.store.connection import Executor, Tx


def upsert(tx: Tx, device: str, state: str, at: str) -> bool:
    """Store one kind's state; True when it changed (or was never recorded)."""
    old = tx.execute("SELECT state FROM device_status WHERE device = ?", [device]).fetchone()
    tx.execute("INSERT INTO device_status(device, state, updated_at) VALUES (?, ?, ?) "
               "ON CONFLICT(device) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
               [device, state, at])
    return old is None or old[0] != state


def read_all(db: Executor) -> dict[str, str]:
    """{device: state} as recorded; empty before the migration that holds them (an older database)."""
    try:
        rows = db.execute("SELECT device, state FROM device_status").fetchall()
    except sqlite3.OperationalError:  # no table yet
        return {}
    return {str(d): str(s) for d, s in rows}
