"""Device status: what the UI process (which holds the devices) last saw of each one, for the heartbeat.

Four kinds — scanner, chip (the PC/SC reader), camera, printer — each `ok`,
`absent` (not configured, or never recorded) or `fault` (configured, but
disconnected, failing, or not yet seen working). The UI records a state when
a source starts, fails or reconnects; `kiosk-sync` reads them into the
heartbeat (sync/heartbeat.py). No personal data: a kind, a state, a time.

Public API: :func:`state_of`, :func:`record`, :func:`start_session`, :func:`read`
(no SQL here: kiosk.store.device_status).
"""

from __future__ import annotations

from datetime import datetime

from kiosk import store
from kiosk.clock import iso_utc
from kiosk.services import UnitOfWork, now_of, transaction
from kiosk.store import device_status as rows

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


def _check(device: str, state: str) -> None:
    if device not in DEVICES:
        raise ValueError(f"unknown device {device!r} (expected one of {', '.join(DEVICES)})")
    if state not in STATES:
        raise ValueError(f"unknown device state {state!r} (expected one of {', '.join(STATES)})")


def record(db: UnitOfWork, device: str, state: str, now: datetime | None = None) -> bool:
    """Store one kind's state; True when it changed (callers log changes only)."""
    _check(device, state)
    with transaction(db) as tx:
        return rows.upsert(tx, device, state, iso_utc(now_of(tx, now)))


def start_session(db: UnitOfWork, configured: dict[str, bool], now: datetime | None = None) -> None:
    """At UI start: kinds not configured are `absent`; configured ones are `fault` until their driver reports
    them working (a state left from the previous run would otherwise claim a device nobody has opened)."""
    with transaction(db) as tx:
        at = iso_utc(now_of(tx, now))
        for device in DEVICES:
            rows.upsert(tx, device, "fault" if configured.get(device) else "absent", at)


def read(db: store.Executor) -> dict[str, str]:
    """Every kind's state; `absent` when never recorded (or before the migration that holds them)."""
    out = dict.fromkeys(DEVICES, "absent")
    out.update({d: s for d, s in rows.read_all(db).items() if d in out and s in STATES})
    return out
