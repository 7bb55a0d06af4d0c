"""`kiosk run`: the kiosk window full-screen with the configured devices (and the console, when configured).

Everything comes from `kiosk.app.build(cfg, devices="configured")`; this
module only lays the windows out on the screens and runs the event loop.
"""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication

from kiosk import app as kiosk_app
from kiosk.config import Config
from ui.app import CheckinBridge, apply_font
from ui.console.window import ConsoleWindow
from ui.patient.window import KioskWindow
from ui.systemd import SystemdHooks


def run(cfg: Config) -> int:
    qt = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(qt, QApplication)
    apply_font(qt)
    app = kiosk_app.build(cfg, devices="configured")
    bridge = CheckinBridge(app)
    window = KioskWindow.from_app(bridge, app)
    console = ConsoleWindow.from_app(bridge, app) if cfg["ui.console"] else None
    # Device states for kiosk-sync's heartbeat: what is configured starts as `fault` until its driver reports it.
    bridge.start_devices({"scanner": cfg["scanner.kind"] != "none", "camera": bool(cfg["camera.enabled"]),
                          "chip": bool(cfg["reader.enabled"]), "printer": bridge.printer is not None})
    sources = app.devices.all_sources()
    for s in sources:
        s.start(bridge.on_scan, bridge.on_status)
    # SIGTERM from systemd: leave the event loop; every committed visit is already on disk.
    # READY=1 and watchdog pings for kiosk-ui.service (no-op outside systemd).
    hooks = SystemdHooks(qt).install(window)
    window.showFullScreen()
    if console is not None:
        screens = qt.screens()
        if len(screens) > 1:  # a second screen at the desk: the console goes there, full-screen
            console.setGeometry(screens[1].availableGeometry())
            console.showFullScreen()
        else:
            console.show()  # a window the receptionist brings forward on the same panel
    code = qt.exec()
    hooks.close()
    for s in sources:
        s.stop()
    bridge.shutdown()
    return code
