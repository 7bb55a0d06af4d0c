"""The chip reader for the demo, the UI tests and bench/ui_latency.py: the project's CCCD emulator
in-process, behind the same source interface as drivers.chip.source.ChipSource.

`present()` puts the emulated card on the reader: on its own thread it
reports `reading`, reads the chip with the real ChipReader (PACE/BAC, secure
messaging, passive authentication, DG2 photo) at the profile's per-command
latency, and hands `ScanEvent(source="chip", document=ChipRead)` on. Like the
real source it needs `expect(id_number, ...)` first (from a QR), else reports `need_qr`.
Like the real source too, the result goes out before the photo: DG2 is read
afterwards on the same session and handed to `on_photo` (the console).
`link=LinkModel(...)` replaces the flat per-command latency with the
per-command overhead + per-byte model of drivers/chip/link.py.
"""

from __future__ import annotations

import threading
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from drivers.protocols import PhotoCallback
from drivers.scan import DeviceStatus, ScanCallback, StatusCallback
from kiosk.documents.chip import ChipRead
from kiosk.domain import ScanEvent

if TYPE_CHECKING:  # types only: the modules themselves need the `chip` extra, imported where they are used
    from drivers.chip.link import LinkModel
    from drivers.chip.reader import Credentials

PROFILES = Path(__file__).resolve().parents[2] / "drivers" / "cccd_emulator" / "profiles"
# The QR printed on the pace-card profile's card (same person, invented).
PACE_CARD_QR = ("001085012345|186543210|Nguyễn Thị Thu Hương|14031985|Nữ|"
                "Số 12 Ngõ 34 Đường Lê Lợi, Phường Hưng Bình, Thành phố Vinh, Tỉnh Nghệ An|20042021")


class EmulatedChipSource:
    name = "chip (emulated)"

    def __init__(self, profile: str = "pace-card", latency_ms: float = 25.0, photo: bool = True,
                 extended: str = "auto", link: LinkModel | None = None):
        # The emulator and the chip reader need the `chip` extra (ecdsa, pyscard's types): imported when a
        # simulated reader is built, so a kiosk without the extra still builds its other simulated devices.
        from drivers.cccd_emulator import load_profile
        from drivers.cccd_emulator.pki import TestPki
        self.profile = load_profile(PROFILES / f"{profile}.json").with_card(latency_ms=0 if link else latency_ms)
        self.pki = TestPki.generate()
        self.photo = photo
        self.extended, self.link = extended, link
        self.on_photo: PhotoCallback | None = None  # after the result; set by ui.app.CheckinBridge
        self.photos: list[float] = []  # seconds each photo took after its result
        self._creds: Credentials | None = None
        self._lock = threading.Lock()
        self._on_scan: ScanCallback | None = None
        self._on_status: StatusCallback | None = None
        self.reads: list[ChipRead] = []
        self.errors: list[str] = []

    def start(self, on_scan: ScanCallback, on_status: StatusCallback | None = None) -> None:
        self._on_scan, self._on_status = on_scan, on_status
        self._status(True, "no_card")

    def stop(self) -> None:
        pass

    def _status(self, connected: bool, detail: str) -> None:
        if self._on_status:
            self._on_status(DeviceStatus("reader", connected, detail))

    def expect(self, id_number: str | None = None, *, date_of_birth: date | None = None, can: str | None = None,
               mrz: tuple[str, str, str] | None = None) -> None:
        from drivers.chip.reader import Credentials  # the `chip` extra, as in __init__
        with self._lock:
            self._creds = Credentials(can=can, mrz=mrz, id_number=id_number, date_of_birth=date_of_birth)

    def present(self) -> threading.Thread:
        """Place the card on the reader; returns the reading thread."""
        t = threading.Thread(target=self._read, name="chip-emulated", daemon=True)
        t.start()
        return t

    def _read(self) -> None:
        # The emulator and the chip stack: the `chip` extra, as in __init__.
        from drivers.cccd_emulator import CccdCard, InProcessConnection
        from drivers.chip.errors import AccessDenied, CardRemoved, ChipError
        from drivers.chip.reader import ChipReader
        with self._lock:
            creds, self._creds = self._creds, None
        if creds is None:
            self._status(True, "need_qr")
            return
        self._status(True, "reading")
        from drivers.chip.link import TracingConnection  # the `chip` extra
        try:
            card = CccdCard(self.profile, self.pki)
            reader = ChipReader(TracingConnection(InProcessConnection(card), self.link), extended=self.extended)
            doc = reader.read_identity(creds, trust=[self.pki.csca_cert])
        except AccessDenied:
            self._status(True, "access_denied")
            return
        except CardRemoved:
            self._status(True, "card_removed")
            return
        except ChipError as e:
            self.errors.append(type(e).__name__)
            self._status(True, "read_failed")
            return
        self.reads.append(doc)
        self._status(True, "read")
        if self._on_scan is not None:  # a card presented before start() is read for `reads` only
            self._on_scan(ScanEvent(b"", source="chip", document=doc))
        if self.photo:
            from drivers.chip.source import read_photo_after  # the `chip` extra
            t0 = time.perf_counter()
            read_photo_after(reader, doc, self.on_photo)
            self.photos.append(time.perf_counter() - t0)
