"""Stopping the kiosk as a card is read: a scan already queued to the worker is checked in, not dropped."""

import threading

import pytest

pytest.importorskip("PySide6")

from kiosk.simulated import demo  # noqa: E402
from kiosk.domain import ScanEvent  # noqa: E402
from ui.app import CheckinBridge  # noqa: E402


def test_shutdown_waits_for_queued_scans(qapp, service, monkeypatch):
    gate = threading.Event()
    real = service.handle

    def slow(scan):
        gate.wait(5)  # the worker is busy with the first scan when shutdown starts
        return real(scan)

    monkeypatch.setattr(service, "handle", slow)
    bridge = CheckinBridge(service)
    bridge.on_scan(ScanEvent(demo.ELIGIBLE_CCCD.encode(), "serial"))
    bridge.on_scan(ScanEvent(demo.EXPIRED_CCCD.encode(), "serial"))
    threading.Timer(0.3, gate.set).start()
    bridge.shutdown()
    (n,) = service.db.execute("SELECT count(*) FROM visits").fetchone()
    assert n == 2
