"""Every screen at 800×480, 1024×600, 1280×800 and 1080×1920, in Vietnamese and English: no clipped
text, no overlapping controls, touch targets ≥ 9 mm on the panel that size comes on."""

import pytest

pytest.importorskip("PySide6")

from drivers.scan import DeviceStatus  # noqa: E402
from kiosk.simulated import demo  # noqa: E402
from tests.ui.conftest import sign_in  # noqa: E402
from tests.ui.layout_check import problems  # noqa: E402

# (width, height, physical diagonal of the panel such a resolution comes on)
FRESH_CCCD = "040301009999||Đặng Thị Thu Hương|01012001|Nữ|Xóm 1, Xã Nghi Phong, Nghệ An|01012021"
SIZES = [(800, 480, 7.0), (1024, 600, 7.0), (1280, 800, 10.1), (1080, 1920, 21.5)]


def _settle(qtbot, w):
    qtbot.wait(30)


def _patient_screens(qtbot, kiosk, scanner, bridge):
    """Yield (name, setup) for every patient screen; setup drives the window there."""
    def result(payload):
        def go():
            kiosk.last_outcome = None
            scanner.scan(payload)
            qtbot.waitUntil(lambda: kiosk.last_outcome is not None, timeout=5000)
            if kiosk.current == "verify":
                kiosk.verify.skip.click()
        return go

    def ticket(paper_out):
        def go():
            result(demo.ELIGIBLE_CCCD)()
            bridge.printer.paper_out = paper_out
            kiosk.result.service_buttons[-1].click()
            qtbot.waitUntil(lambda: kiosk.current == "ticket", timeout=5000)
            bridge.printer.paper_out = False
        return go

    def reading():
        bridge.on_reading("chip", 0.5)
        qtbot.waitUntil(lambda: kiosk.current == "reading", timeout=3000)

    def verify():
        bridge.on_status(DeviceStatus("reader", True))
        qtbot.waitUntil(lambda: "reader" in kiosk.devices, timeout=3000)
        kiosk.last_outcome = None
        scanner.scan(FRESH_CCCD)
        qtbot.waitUntil(lambda: kiosk.current == "verify", timeout=5000)

    def idle_banner():
        bridge.on_status(DeviceStatus("scanner", False))
        qtbot.waitUntil(lambda: kiosk.idle.status.isVisibleTo(kiosk), timeout=3000)
        kiosk.show_idle()

    screens = [("idle", kiosk.show_idle), ("idle-banner", idle_banner), ("reading", reading),
               ("result-covered", result(demo.ELIGIBLE_CCCD)), ("result-expired", result(demo.EXPIRED_CCCD)),
               ("result-pending", result(demo.UNKNOWN_CCCD)), ("ticket", ticket(False)),
               ("ticket-no-paper", ticket(True)), ("verify", verify)]
    from ui.patient.window import ERRORS
    screens += [(f"error-{r}", (lambda r=r: kiosk.show_error(r))) for r in ERRORS]
    return screens


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("width, height, diagonal", SIZES)
def test_patient_screens_fit(qtbot, bridge, scanner, width, height, diagonal, lang):
    from tests.ui.conftest import SERVICES
    from ui.patient.window import KioskWindow
    kiosk = KioskWindow(bridge, "Trạm Y tế xã Nghi Phong, huyện Nghi Lộc", lang, result_timeout_s=60,
                        services=SERVICES, idle_timeout_s=60, diagonal_in=diagonal)
    qtbot.addWidget(kiosk)
    kiosk.resize(width, height)
    kiosk.show()
    found = []
    for name, go in _patient_screens(qtbot, kiosk, scanner, bridge):
        go()
        kiosk.set_language(lang)
        _settle(qtbot, kiosk)
        assert (kiosk.width(), kiosk.height()) == (width, height)
        found += problems(kiosk, kiosk.metrics.touch, f"{width}x{height} {lang} {name}")
    assert not found, "\n".join(found)


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("width, height, diagonal", SIZES)
def test_console_screens_fit(qtbot, bridge, scanner, staff_accounts, tmp_path, width, height, diagonal, lang):
    from tests.ui.conftest import SERVICES
    from ui.console.window import ConsoleWindow
    for p in (demo.ELIGIBLE_CCCD, demo.EXPIRED_CCCD, demo.UNKNOWN_CCCD):
        scanner.scan(p)
    c = ConsoleWindow(bridge, lang=lang, services=SERVICES, facility_code="40123", facility_address="Xã Thử",
                      diagonal_in=diagonal, export_dir=tmp_path)
    qtbot.addWidget(c)
    c.resize(width, height)
    c.show()
    qtbot.waitUntil(lambda: c.login.staff.count() == 2, timeout=5000)
    found = []
    sign_in(qtbot, c, staff_accounts[1].id, "0000")
    qtbot.waitUntil(lambda: bool(c.login.message.text()), timeout=5000)
    _settle(qtbot, c)
    found += problems(c, c.metrics.touch, f"{width}x{height} {lang} login")
    sign_in(qtbot, c, staff_accounts[0].id, "385172")
    qtbot.waitUntil(lambda: c.current == "queue" and len(c.queue.rows) == 3, timeout=5000)
    c.queue.table.selectRow(0)
    c.queue.correct.click()
    c.set_language(lang)
    _settle(qtbot, c)
    c.tabs["stays"].set("Stays ({count}!)", lang, count=12)  # the stay-deadline alarm on the tab
    c.tabs["stays"].setProperty("role", "danger")
    _settle(qtbot, c)
    found += problems(c, c.metrics.touch, f"{width}x{height} {lang} queue")
    for page in ("manual", "stays", "status", "day", "staff"):
        c.show_page(page)
        qtbot.wait(200)
        _settle(qtbot, c)
        found += problems(c, c.metrics.touch, f"{width}x{height} {lang} {page}")
    assert not found, "\n".join(found)
