"""Each driver's probe(): what `kiosk doctor` learns about a device without starting the driver."""

from __future__ import annotations

import os

import pytest

from drivers.camera import CameraSource
from drivers.chip import source as chip_source
from drivers.chip.errors import ReaderUnavailable
from drivers.chip.source import ChipSource
from drivers.hid_scanner import HidScanner
from drivers.printer import SimulatedPrinter
from drivers.protocols import Probe
from drivers.serial_scanner import SerialScanner
from drivers.simulated import SimulatedScanner
from drivers.voice import Voice


def test_serial_port_missing_then_present(tmp_path):
    link = tmp_path / "kiosk-scanner"
    p = SerialScanner(str(link)).probe()
    assert (p.present, p.usable, p.problem) == (False, False, "port_missing")
    master, slave = os.openpty()
    try:
        os.symlink(os.ttyname(slave), link)
        p = SerialScanner(str(link)).probe()
        assert (p.present, p.usable, p.problem) == (True, True, "")
        assert p.details["device"] == os.path.realpath(os.ttyname(slave))
    finally:
        os.close(master)
        os.close(slave)


def test_serial_port_that_is_not_a_tty_does_not_open(tmp_path):
    not_a_port = tmp_path / "ttyX"
    not_a_port.write_text("")
    p = SerialScanner(str(not_a_port)).probe()
    assert p.present and not p.usable and p.problem in ("busy", "permission")
    assert p.details["error"]


def test_hid_scanner_is_probed_as_hid_not_as_a_simulator(tmp_path):
    p = HidScanner(name="Honeywell").probe(input_dir=str(tmp_path))
    assert not p.simulated
    assert (p.present, p.problem) == (False, "not_found")


def test_camera_probe_looks_at_the_configured_device_path(tmp_path):
    node = tmp_path / "kiosk-camera"
    p = CameraSource(str(node)).probe()
    assert p.details["device"] == str(node) and p.problem == "missing"
    p = CameraSource(7).probe()
    assert p.details["device"] == "/dev/video7"


def test_camera_video_file_is_a_stand_in(tmp_path):
    video = tmp_path / "scan.mp4"
    video.write_bytes(b"\0")
    p = CameraSource(str(video)).probe()
    assert p.simulated and p.problem == "video_file"


@pytest.mark.parametrize("readers, wanted, problem", [
    ([], "", "no_reader"),
    (["ACS ACR1252 Dual Reader [ACR1252 Dual Reader PICC] 00 00"], "omnikey", "no_match"),
    (["ACS ACR1252 Dual Reader [ACR1252 Dual Reader PICC] 00 00"], "acr1252", ""),
])
def test_chip_reader_probe(monkeypatch, readers, wanted, problem):
    monkeypatch.setattr(chip_source, "list_readers", lambda: readers)
    p = ChipSource(wanted).probe()
    assert p.problem == problem and p.usable == (problem == "")
    assert p.details["readers"] == readers


def test_chip_reader_probe_pcscd_down_and_hung(monkeypatch):
    def down():
        raise ReaderUnavailable("the PC/SC service (pcscd) is not reachable")
    monkeypatch.setattr(chip_source, "list_readers", down)
    assert ChipSource().probe().problem == "pcscd_down"

    def hung():
        import time
        time.sleep(2)
        return []
    monkeypatch.setattr(chip_source, "list_readers", hung)
    p = ChipSource().probe(timeout=0.2)
    assert p.problem == "pcscd_down" and p.details["error"] == "TimeoutError"


def test_simulated_devices_say_so(tmp_path):
    assert SimulatedScanner().probe().simulated
    printer = SimulatedPrinter(tmp_path)
    assert printer.probe() == Probe("printer", True, True, "", True, {"out_dir": str(tmp_path)})
    printer.paper_out = True
    assert (printer.probe().usable, printer.probe().problem) == (False, "paper_out")
    printer.connected = False
    assert printer.probe().problem == "offline"


def test_voice_without_espeak():
    v = Voice(command=None)
    v.command = None
    try:
        assert v.probe().problem == "not_installed"
    finally:
        v.close()


def test_serial_port_refused_to_this_user_is_a_permission_problem(tmp_path, monkeypatch):
    """As pyserial reports it (SerialException carrying the OS errno), without depending on its wording."""
    import errno

    import serial

    from drivers import serial_scanner

    def refuse(*a, **kw):
        raise serial.SerialException(errno.EACCES, "could not open port: [Errno 13] (any wording)")
    monkeypatch.setattr(serial_scanner.serial, "Serial", refuse)
    port = tmp_path / "ttyACM0"
    port.write_text("")
    p = SerialScanner(str(port)).probe()
    assert (p.present, p.usable, p.problem) == (True, False, "permission")
