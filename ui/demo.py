"""`kiosk demo`: the kiosk on simulated devices, on screen or headless with a transcript and screenshots."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Callable, TextIO

from kiosk import demo as demo_data
from kiosk import i18n
from kiosk.checkin import service_from_config
from kiosk.clock import SystemClock, vn_date


def has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _wait(app, predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        app.processEvents()
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def _describe(outcome, lang: str) -> str:
    from ui.app import eligibility_words
    if not outcome.ok:
        return f"refused: {i18n.t(outcome.message_key, lang)} [{outcome.detail}]"
    again = "same visit returned (existing)" if outcome.existing else "new visit"
    return (f"queue number {outcome.queue_number} — {again}; {outcome.patient['full_name']} "
            f"{outcome.patient['masked_id']}; BHYT {outcome.eligibility['result_code']}: "
            f"{eligibility_words(outcome.eligibility, lang)}")


def run(cfg, *, headless: bool, out_dir: Path, lang: str, stdout: TextIO = sys.stdout,
        result_timeout: float | None = None) -> int:
    headless = headless or not has_display()
    if headless:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PySide6.QtWidgets import QApplication, QPushButton, QVBoxLayout, QWidget

    from drivers.simulated import SimulatedScanner
    from ui.app import CheckinBridge, KioskWindow, apply_font

    demo_dir = cfg.data_dir / "demo"
    demo_data.reset_dir(demo_dir)
    cfg = cfg.with_data_dir(demo_dir)
    clock = SystemClock()
    service = service_from_config(cfg, clock)
    n = demo_data.seed_roster(service.db, demo_data.roster_key(cfg), vn_date(clock.now()), cfg["facility.code"])

    def say(line: str) -> None:
        print(line, file=stdout, flush=True)

    app = QApplication.instance() or QApplication(sys.argv[:1])
    font = apply_font(app)
    bridge = CheckinBridge(service)
    timeout = result_timeout if result_timeout is not None else (2.0 if headless else cfg["ui.result_timeout_seconds"])
    window = KioskWindow(bridge, cfg["facility.name"], lang, timeout)
    window.resize(800, 480)
    scanner = SimulatedScanner("serial")
    scanner.start(bridge.on_scan, bridge.on_status)
    say(f"demo: {cfg['facility.name']} — data in {demo_dir}, demo roster of {n} cards, font {font}")
    if not clock.synchronised():
        say("demo: note — the system clock is not synchronised; visits are flagged clock_unsynced")

    if not headless:
        sim = QWidget()
        sim.setWindowTitle("Device simulator")
        lay = QVBoxLayout(sim)
        for label, payload in (("Scan a sample CCCD QR", demo_data.ELIGIBLE_CCCD),
                               ("Scan an expired card's CCCD QR", demo_data.EXPIRED_CCCD),
                               ("Scan a CCCD not on the roster", demo_data.UNKNOWN_CCCD),
                               ("Scan a BHYT QR", demo_data.BHYT_QR),
                               ("Scan garbage", demo_data.GARBAGE)):
            button = QPushButton(label)
            button.clicked.connect(lambda _=False, p=payload: scanner.scan(p))
            lay.addWidget(button)
        window.show()
        sim.show()
        code = app.exec()
        scanner.stop()
        bridge.shutdown()
        return code

    out_dir.mkdir(parents=True, exist_ok=True)
    window.show()
    shots: list[str] = []

    def shot(name: str) -> None:
        app.processEvents()
        path = out_dir / f"{name}.png"
        window.grab().save(str(path))
        shots.append(path.name)

    _wait(app, lambda: True, 0.2)
    shot("01-idle")
    say("screen: idle — " + i18n.t("idle.prompt", lang))
    steps = [("02-result", "scan a sample CCCD QR (on the roster)", demo_data.ELIGIBLE_CCCD),
             ("03-result-again", "scan the same card again", demo_data.ELIGIBLE_CCCD),
             ("04-refused", "scan garbage", demo_data.GARBAGE),
             ("05-result-expired", "scan a CCCD whose BHYT card has expired", demo_data.EXPIRED_CCCD),
             ("06-result-pending", "scan a CCCD not on the roster (offline)", demo_data.UNKNOWN_CCCD),
             ("07-result-bhyt", "scan a BHYT QR", demo_data.BHYT_QR)]
    failures = 0
    for name, what, payload in steps:
        window.last_outcome = None
        scanner.scan(payload)
        if not _wait(app, lambda: window.last_outcome is not None, 10):
            say(f"scan: {what} → no answer within 10 s")
            failures += 1
            continue
        say(f"scan: {what} → {_describe(window.last_outcome, lang)}")
        shot(name)
    if _wait(app, lambda: window.current == "idle", timeout + 5):
        say(f"screen: back to idle after {timeout:g} s")
    else:
        failures += 1
    scanner.stop()
    bridge.shutdown()
    window.close()
    say(f"screenshots in {out_dir}: {', '.join(shots)}")
    from sync.demo import run_stay_demo  # issue 7: a stay notification sent and acknowledged, one recorded by hand
    failures += run_stay_demo(cfg, say)
    return 1 if failures else 0
