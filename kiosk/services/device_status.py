"""Device status: what the UI process (which holds the devices) last saw of each one, for the heartbeat.

Four kinds — scanner, chip (the PC/SC reader), camera, printer — each `ok`,
`absent` (not configured, or never recorded) or `fault` (configured, but
disconnected, failing, or not yet seen working). The UI records a state when
a source starts, fails or reconnects; `kiosk-sync` reads them into the
heartbeat (sync/heartbeat.py). No personal data: a kind, a state, a time.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from kiosk import store
from kiosk.clock import iso_utc

DEVICES = ("scanner", "chip", "camera", "printer")
STATES = ("ok", "absent", "fault")
# The drivers' names for their devices (drivers.scan.DeviceStatus.device) → the heartbeat's.
DRIVER_NAMES = {"scanner": "scanner", "reader": "chip", "camera": "camera", "printer": "printer"}
# A printer that answers but cannot print is a fault for the station; "paper_low" and "unknown" still print.
PRINTER_FAULTS = ("offline", "paper_out")


def state_of(device: str, connected: bool, detail: str = "") -> tuple[str, str]:
    """(kind, state) for a driver's status report; ValueError for a device the heartbeat does not know."""
    kind = DRIVER_NAMES.get(device)
    if kind is None:
        raise ValueError(f"unknown device {device!r}")
    if not connected:
        return kind, "fault"
    if kind == "printer" and detail in PRINTER_FAULTS:
        return kind, "fault"
    return kind, "ok"


def _upsert(conn: sqlite3.Connection, device: str, state: str, now: datetime) -> bool:
    if device not in DEVICES:
        raise ValueError(f"unknown device {device!r} (expected one of {', '.join(DEVICES)})")
    if state not in STATES:
        raise ValueError(f"unknown device state {state!r} (expected one of {', '.join(STATES)})")
    old = conn.execute("SELECT state FROM device_status WHERE device = ?", [device]).fetchone()
    conn.execute("INSERT INTO device_status(device, state, updated_at) VALUES (?, ?, ?) "
                 "ON CONFLICT(device) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
                 [device, state, iso_utc(now)])
    return old is None or old[0] != state


def record(db, device: str, state: str, now: datetime) -> bool:
    """Store one kind's state (`db`: a store connection); True when it changed (callers log changes only)."""
    with store.transaction(db) as conn:
        return _upsert(conn, device, state, now)


def start_session(db, configured: dict[str, bool], now: datetime) -> None:
    """At UI start: kinds not configured are `absent`; configured ones are `fault` until their driver reports
    them working (a state left from the previous run would otherwise claim a device nobody has opened)."""
    with store.transaction(db) as conn:
        for device in DEVICES:
            _upsert(conn, device, "fault" if configured.get(device) else "absent", now)


def read(conn: sqlite3.Connection) -> dict[str, str]:
    """Every kind's state; `absent` when never recorded (or before the migration that holds them)."""
    out = dict.fromkeys(DEVICES, "absent")
    try:
        rows = conn.execute("SELECT device, state FROM device_status").fetchall()
    except sqlite3.OperationalError:  # an older database: no table yet
        return out
    out.update({d: s for d, s in rows if d in out and s in STATES})
    return out
