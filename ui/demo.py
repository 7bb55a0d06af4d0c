"""`kiosk demo`: the kiosk on simulated devices, on screen or headless with a transcript and screenshots.

Headless, it walks every screen of the patient flow and of the receptionist
console and saves each as a PNG (`--out DIR`); `docs/screens/` is made this way.
The doubles, the invented people and the demo hub come from the App itself
(`kiosk.app.build(cfg, devices="simulated").simulation`): the UI imports no double.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, TextIO

from PySide6.QtWidgets import QApplication, QPushButton, QVBoxLayout, QWidget

from drivers.protocols import DeviceStatus
from kiosk import app as kiosk_app
from kiosk import text
from kiosk.app import App, DemoChip, DemoPrinter, DemoScanner, Simulation
from kiosk.clock import SystemClock
from kiosk.config import Config
from kiosk.services.checkin import Outcome, Refusal
from ui.app import CheckinBridge, apply_font
from ui.console.window import ConsoleWindow
from ui.patient.screens import eligibility_words
from ui.patient.window import KioskWindow


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _wait(app: QApplication, predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        app.processEvents()
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def _describe(outcome: Outcome, lang: str) -> str:
    if isinstance(outcome, Refusal):
        return f"refused: {text.t(outcome.message_key, lang)} [{outcome.detail}]"
    again = "same visit returned (existing)" if outcome.existing else "new visit"
    return (f"queue number {outcome.queue_number} — {again}; {outcome.patient['full_name']} "
            f"{outcome.patient['masked_id']}; BHYT {outcome.eligibility['result_code']}: "
            f"{eligibility_words(outcome.eligibility, lang)}")


@dataclass
class Demo:
    """The demo's parts: the App on simulated devices, the bridge, both windows."""

    app: App
    bridge: CheckinBridge
    window: KioskWindow
    console: ConsoleWindow
    roster_cards: int
    timeout: float

    @property
    def sim(self) -> Simulation:
        assert self.app.simulation is not None  # built with devices="simulated"
        return self.app.simulation

    @property
    def scanner(self) -> DemoScanner:
        return self.sim.scanner

    @property
    def printer(self) -> DemoPrinter:
        return self.sim.printer

    @property
    def chip(self) -> DemoChip:
        return self.sim.chip


def build(cfg: Config, lang: str, *, headless: bool, result_timeout: float | None = None) -> Demo:
    """The demo roster and staff seeded, the simulated devices, both windows; the scanner started."""
    app = kiosk_app.build(cfg, devices="simulated", clock=SystemClock())
    assert app.simulation is not None
    n = app.simulation.seed()
    bridge = CheckinBridge(app)
    timeout = result_timeout if result_timeout is not None else (2.0 if headless else cfg["ui.result_timeout_seconds"])
    window = KioskWindow.from_app(bridge, app, lang=lang, result_timeout_s=timeout)
    console = ConsoleWindow.from_app(bridge, app, lang=lang)
    demo = Demo(app, bridge, window, console, n, timeout)
    demo.scanner.start(bridge.on_scan, bridge.on_status)
    return demo


def run(cfg: Config, *, headless: bool, out_dir: Path, lang: str, stdout: TextIO = sys.stdout,
        result_timeout: float | None = None) -> int:
    headless = headless or not has_display()
    if headless:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # read when the QApplication is made, below
    demo_dir = cfg.data_dir / "demo"
    if demo_dir.exists():  # each demo starts from empty data
        shutil.rmtree(demo_dir)
    demo_dir.mkdir(parents=True)
    cfg = cfg.with_data_dir(demo_dir)

    def say(line: str) -> None:
        print(line, file=stdout, flush=True)

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    font = apply_font(app)
    demo = build(cfg, lang, headless=headless, result_timeout=result_timeout)
    bridge, window, console, scanner, printer, chip = \
        demo.bridge, demo.window, demo.console, demo.scanner, demo.printer, demo.chip
    say(f"demo: {cfg['facility.name']} — data in {demo_dir}, demo roster of {demo.roster_cards} cards, font {font}")
    admin, people = demo.sim.admin, demo.sim.payloads
    say(f"demo: console sign-in — {admin.full_name} (administrator), PIN {admin.pin}; "
        f"tickets as PNG in {printer.out_dir}")
    if not demo.app.clock.synchronised():
        say("demo: note — the system clock is not synchronised; visits are flagged clock_unsynced")

    if not headless:
        sim = QWidget()
        sim.setWindowTitle("Device simulator")
        lay = QVBoxLayout(sim)
        for label, payload in (("Scan a sample CCCD QR", people.eligible_cccd),
                               ("Scan an expired card's CCCD QR", people.expired_cccd),
                               ("Scan a CCCD not on the roster", people.unknown_cccd),
                               ("Scan a BHYT QR", people.bhyt_qr),
                               ("Scan garbage", people.garbage)):
            button = QPushButton(label)
            button.clicked.connect(lambda _=False, p=payload: scanner.scan(p))
            lay.addWidget(button)
        qr = QPushButton("Scan the chip card's QR (Nguyễn Thị Thu Hương)")
        qr.clicked.connect(lambda: scanner.scan(people.chip_card_qr))
        lay.addWidget(qr)
        place = QPushButton("Place the chip card on the reader (emulator, 25 ms/command)")
        place.clicked.connect(lambda: chip.present())
        lay.addWidget(place)
        chip.start(bridge.on_scan, bridge.on_status)
        paper = QPushButton("Printer: toggle out of paper")
        paper.clicked.connect(lambda: setattr(printer, "paper_out", not printer.paper_out))
        lay.addWidget(paper)
        background = demo.sim.start_hub(say)  # the province's hub, the kiosk syncing to it
        window.show()
        console.show()
        sim.show()
        code = app.exec()
        scanner.stop()
        bridge.shutdown()
        if background is not None:
            background.stop()
        return code

    return _headless(app, lang, out_dir, say, demo)


def _headless(app: QApplication, lang: str, out_dir: Path, say: Callable[[str], None], demo: Demo) -> int:
    bridge, window, console, scanner, printer, chip = \
        demo.bridge, demo.window, demo.console, demo.scanner, demo.printer, demo.chip
    timeout, people = demo.timeout, demo.sim.payloads
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("*.png"):
        old.unlink()
    window.resize(800, 480)
    window.show()
    console.resize(1024, 600)
    console.show()
    shots: list[str] = []
    failures = 0

    def shot(name: str, widget: QWidget = window) -> None:
        _wait(app, lambda: False, 0.15)  # let queued signals and repaints land
        path = out_dir / f"{name}.png"
        widget.grab().save(str(path))
        shots.append(path.name)

    def wait_for(pred: Callable[[], bool], what: str, limit: float = 10) -> bool:
        nonlocal failures
        if _wait(app, pred, limit):
            return True
        say(f"demo: {what} did not happen within {limit:g} s")
        failures += 1
        return False

    def scan(what: str, payload: str) -> bool:
        window.last_outcome = None
        scanner.scan(payload)
        if not wait_for(lambda: window.last_outcome is not None, f"scan: {what} → an answer"):
            return False
        say(f"scan: {what} → {_describe(window.last_outcome, lang)}")
        return True

    def choose_first_service() -> None:
        window.last_ticket = None
        window.result.service_buttons[0].click()
        wait_for(lambda: window.last_ticket is not None and window.current in ("ticket",), "ticket")

    _wait(app, lambda: False, 0.2)
    shot("01-idle")
    say("screen: idle — " + text.t("idle.prompt", lang))
    if scan("scan a sample CCCD QR (on the roster)", people.eligible_cccd):
        shot("02-result")
        choose_first_service()
        say(f"ticket: number {window.ticket.queue_number.text()} for {window.ticket.service.text()} "
            f"— printed {printer.printed[-1].name if printer.printed else 'nothing'}")
        shot("03-ticket")
        if printer.printed:
            shutil.copy(printer.printed[-1], out_dir / "03-ticket-paper.png")
            shots.append("03-ticket-paper.png")
    window.show_idle()
    if scan("scan the same card again", people.eligible_cccd):
        shot("04-result-again")
    if scan("scan garbage", people.garbage):
        shot("05-error-unreadable")
    steps = [("06-result-expired", "scan a CCCD whose BHYT card has expired", people.expired_cccd),
             ("07-result-pending", "scan a CCCD not on the roster (offline)", people.unknown_cccd),
             ("08-result-bhyt", "scan a BHYT QR", people.bhyt_qr)]
    for name, what, payload in steps:
        if scan(what, payload):
            shot(name)
    printer.paper_out = True
    choose_first_service()
    say("ticket: printer out of paper → " + window.ticket.printer_note.text())
    shot("09-ticket-no-paper")
    printer.paper_out = False
    window.show_idle()
    # The chip path, with the project's CCCD emulator on the "reader": QR → invitation → card → verified.
    chip.start(bridge.on_scan, bridge.on_status)
    wait_for(lambda: "reader" in window.devices, "reader status")
    if scan("scan the QR of a chip card", people.chip_card_qr):
        wait_for(lambda: window.current == "verify", "invitation to a verified chip read")
        shot("10-verify")
        seen = []
        bridge.reading.connect(lambda *_: seen.append(window.grab()))
        window.last_outcome = None
        chip.present()
        wait_for(lambda: window.last_outcome is not None and window.current == "result", "chip read", 15)
        if seen:
            seen[0].save(str(out_dir / "11-reading.png"))
            shots.append("11-reading.png")
        say(f"chip: card on the reader → {_describe(window.last_outcome, lang)} "
            f"[{window.result.heading.text()}; read in {chip.reads[-1].seconds:.2f} s, "
            f"{chip.reads[-1].access_method}, passive authentication {chip.reads[-1].passive_authentication}]")
        shot("12-result-chip-verified")
        choose_first_service()
    window.show_idle()
    chip.present().join(10)  # a card on the reader with no QR scanned first
    wait_for(lambda: window.current == "error", "need-QR screen")
    say("chip: card without a QR first → " + window.error.heading.text())
    shot("13-error-need-qr")
    window.show_error("chip_failed")
    shot("13-error-chip-moved")
    bridge.on_status(DeviceStatus("reader", False, "simulated unplug"))
    window.show_idle()
    wait_for(lambda: window.idle.status.isVisibleTo(window), "reader-down banner")
    shot("13-idle-reader-down")
    window.show_error("device_unplugged")
    shot("13-error-reader-unplugged")
    for reason in ("storage", "no_identity", "chip_unsupported"):
        window.show_error(reason)
        shot(f"14-error-{reason.replace('_', '-')}")
    window.set_language("en" if lang == "vi" else "vi")
    shot("15-idle-other-language")
    window.show_idle()
    if _wait(app, lambda: window.current == "idle", timeout + 5):
        say(f"screen: back to idle after {timeout:g} s")
    else:
        failures += 1

    failures += _console_tour(app, console, say, shot, wait_for, demo.sim.admin.pin)
    scanner.stop()
    bridge.shutdown()
    window.close()
    console.close()
    say(f"screenshots in {out_dir}: {', '.join(shots)}")
    # The province's hub (kiosk-hub on SQLite): the kiosk's records and a stay synced to it, a heartbeat, the
    # dashboard's address and demo login, and its screenshots when Chromium is installed.
    failures += demo.sim.stay_scene(say, out_dir)
    return 1 if failures else 0


def _console_tour(app: QApplication, console: ConsoleWindow, say: Callable[[str], None],
                  shot: Callable[[str, QWidget], None], wait_for: Callable[[Callable[[], bool], str], bool],
                  admin_pin: str) -> int:
    c = console
    wait_for(lambda: c.login.staff.count() >= 2, "staff list")
    shot("20-console-login", c)
    c.login.staff.setCurrentIndex(c.login.staff.findData(2))  # the receptionist
    for _ in range(2):
        c.login.pin.setText("0000")
        c.sign_in()
        wait_for(lambda: bool(c.login.message.text()), "wrong-PIN message")
    say("console: wrong PIN → " + c.login.message.text())
    shot("21-console-wrong-pin", c)
    c.login.staff.setCurrentIndex(c.login.staff.findData(1))
    c.login.pin.setText(admin_pin)
    c.sign_in()
    if not wait_for(lambda: c.current == "queue" and len(c.queue.rows) >= 4, "console queue"):
        return 1
    say(f"console: signed in; queue of {len(c.queue.rows)} visits")
    c.queue.call()
    wait_for(lambda: any(r.status == "being_seen" for r in c.queue.rows), "call next")
    say("console: " + c.queue.message.text())
    chip_row = next((i for i, r in enumerate(c.queue.rows) if r.masked_id.endswith("2345")), 1)
    c.queue.table.selectRow(chip_row)  # the chip-read patient: the face-check photo shows (memory only)
    wait_for(lambda: bool(c.queue.photos), "chip photo in the console's memory")
    say(f"console: face check — chip photo of the selected patient held in memory ({len(c.queue.photos)} photo(s)), "
        + ("shown" if not c.queue.photo.pixmap().isNull() else "not decodable: " + c.queue.photo.text()))
    shot("22-console-queue", c)
    c.show_page("manual")
    m = c.manual
    m.kind.setCurrentIndex(m.kind.findData("passport"))
    m.number.setText("X1234567")
    m.name.setText("Marie Dupont")
    m.dob.setText("03/04/1985")
    m.sex.setCurrentIndex(m.sex.findData("female"))
    m.nationality.setText("FRA")
    c.manual.check_in()
    wait_for(lambda: "Marie Dupont" in m.message.text(), "manual entry")
    say("console: manual entry (a foreigner, by passport) → " + m.message.text())
    shot("23-console-manual", c)
    c.show_page("stays")
    s = c.stays
    s.queue_number.setText("1")
    s.reason.setText("Theo dõi sau tiêm")
    c.stays.start_stay()
    wait_for(lambda: len(c.stays.stays) >= 1, "stay start")
    say("console: stay → " + s.message.text())
    shot("24-console-stays", c)
    c.show_page("status")
    wait_for(lambda: bool(c.status.sync.text()), "status")
    shot("25-console-status", c)
    c.show_page("day")
    wait_for(lambda: bool(c.day.total.text()), "end of day")
    c.day.export_day()
    wait_for(lambda: bool(c.day.message.text()), "export")
    say("console: end of day → " + c.day.total.text().replace("\n", "; ") + "; " + c.day.message.text())
    shot("26-console-day", c)
    c.show_page("staff")
    wait_for(lambda: len(c.staff.staff_rows) >= 2, "staff list")
    shot("27-console-staff", c)
    c.lock()
    say("console: locked")
    return 0
