"""The kiosk window driven through its real bridge and worker thread (pytest-qt)."""

import pytest

pytest.importorskip("PySide6")

from drivers.simulated import SimulatedScanner  # noqa: E402
from kiosk import demo  # noqa: E402
from ui.app import CheckinBridge, KioskWindow  # noqa: E402


@pytest.fixture
def kiosk(qtbot, service):
    bridge = CheckinBridge(service)
    window = KioskWindow(bridge, "Trạm Y tế xã Thử", "vi", result_timeout_s=0.5)
    qtbot.addWidget(window)
    window.show()
    scanner = SimulatedScanner()
    scanner.start(bridge.on_scan, bridge.on_status)
    yield window, scanner
    scanner.stop()
    bridge.shutdown()


def test_scan_shows_result_with_masked_id_then_idle(qtbot, kiosk):
    window, scanner = kiosk
    assert window.current == "idle"
    assert "Quét mã QR" in window.idle.prompt.text()
    scanner.scan(demo.ELIGIBLE_CCCD)
    qtbot.waitUntil(lambda: window.current == "result", timeout=5000)
    assert window.result.queue_number.text() == "1"
    assert "********1234" in window.result.masked_id.text()
    assert "040195001234" not in window.result.masked_id.text()
    assert window.result.name.text() == "Trần Thị Lan Anh"
    qtbot.waitUntil(lambda: window.current == "idle", timeout=3000)
    assert window.result.name.text() == "" and window.result.masked_id.text() == ""


def test_garbage_shows_a_readable_refusal(qtbot, kiosk):
    window, scanner = kiosk
    scanner.scan(demo.GARBAGE)
    qtbot.waitUntil(lambda: window.current == "result", timeout=5000)
    assert "Vui lòng quét lại" in window.result.bhyt.text()
    assert window.result.queue_number.text() == ""


def test_checkin_runs_off_the_gui_thread(qtbot, kiosk, service, monkeypatch):
    import threading
    window, scanner = kiosk
    seen = []
    real = service.handle
    monkeypatch.setattr(service, "handle", lambda s: (seen.append(threading.current_thread()), real(s))[1])
    scanner.scan(demo.ELIGIBLE_CCCD)
    qtbot.waitUntil(lambda: window.current == "result", timeout=5000)
    assert seen and seen[0] is not threading.main_thread()
