"""Build the scan sources a kiosk's configuration asks for.

`scanner.kind` picks the barcode scanner (serial / hid / simulated / none);
`camera.enabled` adds a camera. Every source has the same interface
(drivers.scan.ScanSource), so the check-in flow runs on any of them by
configuration alone:

    sources = build_sources(cfg)
    for s in sources:
        s.start(bridge.on_scan, bridge.on_status)
"""

from __future__ import annotations

from drivers.scan import ScanSource
from kiosk.errors import UsageError


def make_scanner(cfg) -> ScanSource | None:
    kind = cfg["scanner.kind"]
    if kind == "serial":
        from drivers.serial_scanner import SerialScanner
        return SerialScanner(cfg["scanner.port"], cfg["scanner.baud"], cfg["scanner.frame_timeout_ms"] / 1000,
                             max_frame=cfg["scanner.max_scan_bytes"], suffix=cfg["scanner.suffix"])
    if kind == "hid":
        from drivers.hid_scanner import HidScanner
        if not (cfg["scanner.hid_name"] or cfg["scanner.hid_vid_pid"]):
            raise UsageError("scanner.kind = \"hid\" needs scanner.hid_name or scanner.hid_vid_pid")
        return HidScanner(cfg["scanner.hid_name"], cfg["scanner.hid_vid_pid"], cfg["scanner.frame_timeout_ms"] / 1000)
    if kind == "simulated":
        from drivers.simulated import SimulatedScanner
        return SimulatedScanner()
    return None


def make_camera(cfg) -> ScanSource | None:
    if not cfg["camera.enabled"]:
        return None
    from drivers.camera import CameraSource
    return CameraSource(cfg["camera.device"] or cfg["camera.index"], decoder=cfg["camera.decoder"],
                        cooldown=cfg["camera.cooldown_seconds"], width=cfg["camera.width"],
                        height=cfg["camera.height"])


def make_chip(cfg) -> ScanSource | None:
    """The PC/SC chip reader (issue 4): told the number by the check-in flow (`expect()`), it reads placed cards."""
    if not cfg["reader.enabled"]:
        return None
    from drivers.chip.passive import load_trust_store
    from drivers.chip.source import ChipSource
    return ChipSource(cfg["reader.name"], trust=load_trust_store(cfg["reader.csca_dir"]),
                      extended=cfg["reader.extended_length"], photo=cfg["reader.read_photo"])


def build_sources(cfg) -> list[ScanSource]:
    return [s for s in (make_scanner(cfg), make_camera(cfg), make_chip(cfg)) if s is not None]
