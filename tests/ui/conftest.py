"""Fixtures for the touch UI: the real bridge (worker threads), simulated scanner and printer."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from drivers.printer import SimulatedPrinter  # noqa: E402
from drivers.simulated import SimulatedScanner  # noqa: E402
from kiosk.simulated import demo  # noqa: E402
from kiosk.services.desk import parse_services  # noqa: E402

SERVICES = parse_services(["kham_benh|Khám bệnh|General check-up", "tiem_chung|Tiêm chủng|Vaccination",
                           "kham_thai|Khám thai|Antenatal check-up"])


@pytest.fixture
def seeded(service, clock):
    from kiosk.clock import vn_date
    from kiosk.eligibility.roster import DEMO_KEY
    demo.seed_roster(service.db, DEMO_KEY, vn_date(clock.now()), "40123")
    return service


@pytest.fixture
def printer(tmp_path):
    return SimulatedPrinter(tmp_path / "tickets")


@pytest.fixture
def bridge(app, seeded, printer):
    """The real bridge on the tests' App, with a PNG printer (each worker opens its own connection)."""
    from ui.app import CheckinBridge
    app.devices.printer = printer
    b = CheckinBridge(app)
    yield b
    b.shutdown()


@pytest.fixture
def scanner(bridge):
    s = SimulatedScanner()
    s.start(bridge.on_scan, bridge.on_status)
    yield s
    s.stop()


@pytest.fixture
def kiosk(qtbot, bridge, scanner):
    from ui.patient.window import KioskWindow
    window = KioskWindow(bridge, "Trạm Y tế xã Thử", "vi", result_timeout_s=0.5, services=SERVICES,
                         idle_timeout_s=5)
    qtbot.addWidget(window)
    window.show()
    return window


@pytest.fixture
def staff_accounts(seeded):
    from kiosk.services import staff
    admin = staff.add(seeded.db, "Nguyễn Thị Mai", "040190000111", "385172", is_admin=True)
    rec = staff.add(seeded.db, "Phạm Văn Nam", "040188000222", "4826", by=admin.id)
    return admin, rec


@pytest.fixture
def console(qtbot, bridge, staff_accounts, tmp_path):
    from ui.console.window import ConsoleWindow
    w = ConsoleWindow(bridge, lang="vi", services=SERVICES, facility_code="40123", facility_name="Trạm Thử",
                      facility_address="Xã Thử, Nghệ An", lock_seconds=60, export_dir=tmp_path / "exports")
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.login.staff.count() == 2, timeout=5000)
    return w


def sign_in(qtbot, console, staff_id: int, pin: str) -> None:
    console.login.staff.setCurrentIndex(console.login.staff.findData(staff_id))
    console.login.pin.setText(pin)
    console.login.ok_key.click()
