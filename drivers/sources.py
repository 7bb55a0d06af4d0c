"""Build the scan sources a kiosk's configuration asks for.

`scanner.kind` picks the barcode scanner (serial / hid / simulated / none);
`camera.enabled` adds a camera; `reader.enabled` the PC/SC chip reader. Every
source has the same interface (drivers.protocols.ScanSource), so the check-in
flow runs on any of them by configuration alone:

    sources = build_sources(cfg)
    for s in sources:
        s.start(bridge.on_scan, bridge.on_status)

Building a source opens nothing: `kiosk doctor` builds them too, to call
their `probe()`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from drivers.hid_scanner import HidScanner
from drivers.protocols import ScanSource
from drivers.serial_scanner import SerialScanner
from drivers.simulated import SimulatedScanner
from kiosk.config import Config
from kiosk.errors import UsageError

if TYPE_CHECKING:
    from drivers.camera import CameraSource
    from drivers.chip.source import ChipSource


def make_scanner(cfg: Config) -> SerialScanner | HidScanner | SimulatedScanner | None:
    kind = cfg["scanner.kind"]
    if kind == "serial":
        return SerialScanner(cfg["scanner.port"], cfg["scanner.baud"], cfg["scanner.frame_timeout_ms"] / 1000,
                             max_frame=cfg["scanner.max_scan_bytes"], suffix=cfg["scanner.suffix"])
    if kind == "hid":
        if not (cfg["scanner.hid_name"] or cfg["scanner.hid_vid_pid"]):
            raise UsageError("scanner.kind = \"hid\" needs scanner.hid_name or scanner.hid_vid_pid")
        return HidScanner(cfg["scanner.hid_name"], cfg["scanner.hid_vid_pid"], cfg["scanner.frame_timeout_ms"] / 1000)
    if kind == "simulated":
        return SimulatedScanner()
    return None


def make_camera(cfg: Config) -> CameraSource | None:
    if not cfg["camera.enabled"]:
        return None
    from drivers.camera import CameraSource  # needs numpy and OpenCV: the optional `camera` extra
    return CameraSource(cfg["camera.device"] or cfg["camera.index"], decoder=cfg["camera.decoder"],
                        cooldown=cfg["camera.cooldown_seconds"], width=cfg["camera.width"],
                        height=cfg["camera.height"])


def make_chip(cfg: Config, *, enabled_only: bool = True) -> ChipSource | None:
    """The PC/SC chip reader (issue 4): told the number by the check-in flow (`expect()`), it reads placed cards.

    `enabled_only=False` builds it even when `reader.enabled` is off (the doctor still checks pcscd)."""
    if enabled_only and not cfg["reader.enabled"]:
        return None
    # The chip library needs ecdsa (and pyscard to talk to a reader): the optional `chip` extra.
    from drivers.chip.passive import load_trust_store
    from drivers.chip.source import ChipSource
    return ChipSource(cfg["reader.name"], trust=load_trust_store(cfg["reader.csca_dir"]),
                      extended=cfg["reader.extended_length"], photo=cfg["reader.read_photo"])


def build_sources(cfg: Config) -> list[ScanSource]:
    return [s for s in (make_scanner(cfg), make_camera(cfg), make_chip(cfg)) if s is not None]
