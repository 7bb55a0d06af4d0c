"""Stopping the kiosk as a card is read: a scan already queued to the worker is checked in, not dropped."""

import threading

import pytest

pytest.importorskip("PySide6")

from kiosk.simulated import demo  # noqa: E402
from kiosk.domain import ScanEvent  # noqa: E402
from kiosk.services.checkin import CheckinService  # noqa: E402
from ui.app import CheckinBridge  # noqa: E402


def test_shutdown_waits_for_queued_scans(qapp, app, service, monkeypatch):
    gate = threading.Event()
    real = CheckinService.handle

    def slow(self, scan):
        gate.wait(5)  # the worker is busy with the first scan when shutdown starts
        return real(self, scan)

    monkeypatch.setattr(CheckinService, "handle", slow)  # the worker's own service, made on its thread
    bridge = CheckinBridge(app)
    bridge.on_scan(ScanEvent(demo.ELIGIBLE_CCCD.encode(), "serial"))
    bridge.on_scan(ScanEvent(demo.EXPIRED_CCCD.encode(), "serial"))
    threading.Timer(0.3, gate.set).start()
    bridge.shutdown()
    (n,) = service.db.execute("SELECT count(*) FROM visits").fetchone()
    assert n == 2
