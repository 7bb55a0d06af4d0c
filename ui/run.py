"""`kiosk run`: the kiosk window full-screen with the configured devices."""

from __future__ import annotations

import sys

from kiosk.checkin import service_from_config


def make_scanner(cfg):
    kind = cfg["scanner.kind"]
    if kind == "serial":
        from drivers.serial_scanner import SerialScanner
        return SerialScanner(cfg["scanner.port"], cfg["scanner.baud"], cfg["scanner.frame_timeout_ms"] / 1000)
    if kind == "simulated":
        from drivers.simulated import SimulatedScanner
        return SimulatedScanner()
    return None


def run(cfg) -> int:
    from PySide6.QtWidgets import QApplication

    from ui.app import CheckinBridge, KioskWindow, apply_font

    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_font(app)
    bridge = CheckinBridge(service_from_config(cfg))
    window = KioskWindow(bridge, cfg["facility.name"], cfg["ui.language"], cfg["ui.result_timeout_seconds"])
    sources = [s for s in (make_scanner(cfg),) if s is not None]
    for s in sources:
        s.start(bridge.on_scan, bridge.on_status)
    # SIGTERM from systemd: leave the event loop; every committed visit is already on disk.
    # READY=1 and watchdog pings for kiosk-ui.service (no-op outside systemd).
    from ui.systemd import SystemdHooks
    hooks = SystemdHooks(app).install(window)
    window.showFullScreen()
    code = app.exec()
    hooks.close()
    for s in sources:
        s.stop()
    bridge.shutdown()
    return code
