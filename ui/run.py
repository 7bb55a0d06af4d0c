"""`kiosk run`: the kiosk window full-screen with the configured devices."""

from __future__ import annotations

import sys

from drivers.sources import build_sources
from kiosk.services.checkin import service_from_config


def run(cfg) -> int:
    from PySide6.QtWidgets import QApplication

    from ui.app import CheckinBridge, KioskWindow, apply_font, make_recheck

    app = QApplication.instance() or QApplication(sys.argv[:1])
    apply_font(app)
    sources = build_sources(cfg)  # scanner (serial/hid/simulated) and camera, by configuration
    # Touch UI (issue 9): ticket printer, voice, the chip source that takes expect(), services, console.
    from drivers.printer import printer_from_config
    from drivers.voice import voice_from_config
    from kiosk.services.desk import parse_services
    chip = next((s for s in sources if hasattr(s, "expect")), None)
    bridge = CheckinBridge(service_from_config(cfg), printer=printer_from_config(cfg), voice=voice_from_config(cfg),
                           chip=chip)
    services = parse_services(cfg["ui.services"])
    window = KioskWindow(bridge, cfg["facility.name"], cfg["ui.language"], cfg["ui.result_timeout_seconds"],
                         services=services, idle_timeout_s=cfg["ui.idle_timeout_seconds"],
                         diagonal_in=cfg["ui.screen_diagonal_inches"])
    console = None
    if cfg["ui.console"]:
        from ui.console.window import ConsoleWindow
        console = ConsoleWindow(bridge, lang=cfg["ui.language"], services=services,
                                facility_code=cfg["facility.code"], facility_name=cfg["facility.name"],
                                facility_address=cfg["facility.address"], lock_seconds=cfg["ui.console_lock_seconds"],
                                max_attempts=cfg["staff.max_pin_attempts"], lockout_minutes=cfg["staff.lockout_minutes"],
                                diagonal_in=cfg["ui.screen_diagonal_inches"], export_dir=cfg.data_dir / "exports",
                                voice=bridge.voice, recheck=make_recheck(cfg))
    # Device states for kiosk-sync's heartbeat: what is configured starts as `fault` until its driver reports it.
    bridge.start_devices({"scanner": cfg["scanner.kind"] != "none", "camera": bool(cfg["camera.enabled"]),
                          "chip": bool(cfg["reader.enabled"]), "printer": bridge.printer is not None})
    for s in sources:
        s.start(bridge.on_scan, bridge.on_status)
    # SIGTERM from systemd: leave the event loop; every committed visit is already on disk.
    # READY=1 and watchdog pings for kiosk-ui.service (no-op outside systemd).
    from ui.systemd import SystemdHooks
    hooks = SystemdHooks(app).install(window)
    window.showFullScreen()
    if console is not None:
        screens = app.screens()
        if len(screens) > 1:  # a second screen at the desk: the console goes there, full-screen
            console.setGeometry(screens[1].availableGeometry())
            console.showFullScreen()
        else:
            console.show()  # a window the receptionist brings forward on the same panel
    code = app.exec()
    hooks.close()
    for s in sources:
        s.stop()
    bridge.shutdown()
    return code
