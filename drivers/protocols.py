"""The device seams, declared once: what the core, the UI and the doctor may expect of any driver.

- `ScanSource`: runs its own thread and calls `on_scan(ScanEvent)` for every
  code read and `on_status(DeviceStatus)` when its device comes or goes.
  Callbacks run on the driver's thread: receivers (the UI bridge, the CLI)
  hand them on to their own threads and never block the driver for long.
- `ChipSource`: a scan source for the PC/SC reader that is told whose card to
  expect (from a QR, or a CAN typed at the desk) before it reads a placed card,
  and hands the face photo (DG2, read after the result) to `on_photo` if set.
- `Printer`: prints a `kiosk.domain.Ticket` (raises drivers.printer.PrinterError).
- `Voice`: calls a queue number aloud, never in the way when it cannot.

Every driver (and every simulator standing in for one) also has `probe()`:
what `kiosk doctor` asks — is the device there, can this user open it —
answered as a small `Probe` without starting the driver or reading a card.
Probes never raise and never block for long (a hung pcscd or camera is a
finding, not a stuck doctor).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Callable, Protocol, Union

from kiosk.documents.chip import ChipRead
from kiosk.domain import ScanEvent, Ticket


@dataclass(frozen=True)
class DeviceStatus:
    device: str  # "scanner" | "camera" | "reader" | "printer"
    connected: bool
    detail: str = ""  # for technicians: port, error; never personal data


# A scanner's `detail` when it is in HID keyboard mode: the console tells the receptionist to switch it.
SWITCH_TO_SERIAL = ("HID keyboard mode cannot carry Vietnamese: switch the scanner to serial "
                    "(USB COM / CDC-ACM) mode with its configuration barcode")


ScanCallback = Callable[[ScanEvent], None]
StatusCallback = Callable[[DeviceStatus], None]
PhotoCallback = Callable[[ChipRead, tuple[str, bytes]], None]  # (the read, (format, image)): memory only

ProbeDetail = Union[str, int, bool, list[str]]


@dataclass(frozen=True)
class Probe:
    """What a driver's `probe()` found. `problem` is a stable key the doctor words (empty when all is well).

    `present`: the device (or its service) is there; `usable`: this process could open it now;
    `simulated`: a stand-in, not hardware. `details` are for technicians: paths, reader names,
    error types; never personal data.
    """

    device: str  # "scanner" | "camera" | "reader" | "printer" | "voice"
    present: bool
    usable: bool
    problem: str = ""
    simulated: bool = False
    details: dict[str, ProbeDetail] = field(default_factory=dict)


class Probed(Protocol):
    def probe(self) -> Probe: ...


class ScanSource(Protocol):
    name: str

    def start(self, on_scan: ScanCallback, on_status: StatusCallback | None = None) -> None: ...

    def stop(self) -> None: ...


class ChipSource(ScanSource, Protocol):
    """A chip reader source: told whose card to expect (from a QR) before it reads a placed card."""

    on_photo: PhotoCallback | None  # called on the reader's thread after the result; set by ui.app.CheckinBridge

    def expect(self, id_number: str | None = None, *, date_of_birth: date | None = None, can: str | None = None,
               mrz: tuple[str, str, str] | None = None) -> None: ...


class Printer(Protocol):
    name: str

    def print_ticket(self, ticket: Ticket) -> object: ...

    def status(self) -> tuple[bool, str]: ...


class Voice(Protocol):
    @property
    def available(self) -> bool: ...

    def call(self, number: int) -> bool: ...

    def close(self) -> None: ...
