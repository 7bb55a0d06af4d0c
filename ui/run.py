"""`kiosk run`: the kiosk window full-screen with the configured devices."""

from __future__ import annotations

import sys

from drivers.sources import build_sources
from kiosk.checkin import service_from_config


def run(cfg) -> int:
    from PySide6.QtWidgets import QApplication

    from ui.app import CheckinBridge, KioskWindow, apply_font

    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_font(app)
    bridge = CheckinBridge(service_from_config(cfg))
    window = KioskWindow(bridge, cfg["facility.name"], cfg["ui.language"], cfg["ui.result_timeout_seconds"])
    sources = build_sources(cfg)  # scanner (serial/hid/simulated) and camera, by configuration
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
