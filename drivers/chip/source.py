"""The chip reader as a scan source: when a card is placed and the kiosk knows its number, read it.

The check-in flow asks for the QR first when it needs the ID number
(`expect(id_number)` after a CCCD QR scan, or `expect(can=...)` typed by the
receptionist); when a card is then placed on the reader, the source reads it
on its own thread and hands `ScanEvent(source="chip", document=ChipRead)` to
the core. Device status says `need_qr` when a card is on the reader but no
number is known, `access_denied` when the number does not open it. The reader
may be unplugged and plugged again (or pcscd restarted): the source keeps
polling and reports it through `on_status`.

The patient's result does not wait for the face photo: the scan event goes
out as soon as identity (DG1/DG13), passive authentication and chip
authentication are done; then, on the same session and still on the
reader's thread, DG2 is read, checked against the same EF.SOD and handed to
`on_photo(document, (format, image))` for the console's face check (memory
only). A card taken away during the photo read costs only the photo.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
import time
from datetime import date
from typing import Iterable

from cryptography.x509 import Certificate

from drivers.chip.connection import PCSCD_SOCKET, PcscConnection, list_readers
from drivers.chip.errors import AccessDenied, CardRemoved, ChipError, NoCard, ReaderUnavailable
from drivers.chip.reader import ChipReader, Credentials
from drivers.protocols import PhotoCallback, Probe
from drivers.scan import DeviceStatus, ScanCallback, StatusCallback
from drivers.timeouts import call_with_timeout
from kiosk.documents.chip import ChipRead
from kiosk.domain import ScanEvent

log = logging.getLogger(__name__)


class ChipSource:
    name = "chip"

    def __init__(self, reader_name: str = "", trust: Iterable[Certificate] = (), extended: str = "auto",
                 poll_seconds: float = 0.25,
                 expect_seconds: float = 120.0, photo: bool = False):
        self.reader_name, self.trust, self.extended = reader_name, list(trust), extended
        self.photo = photo  # DG2 into memory for the receptionist's face check; never written anywhere
        self.on_photo: PhotoCallback | None = None  # after the result; set by ui.app.CheckinBridge
        self.poll, self.expect_seconds = poll_seconds, expect_seconds
        self._creds: Credentials | None = None
        self._creds_at = 0.0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._status: tuple[bool, str] | None = None
        self._on_status: StatusCallback | None = None

    def expect(self, id_number: str | None = None, *, date_of_birth: date | None = None, can: str | None = None,
               mrz: tuple[str, str, str] | None = None) -> None:
        """The number that opens the next card (kept for `expect_seconds`)."""
        with self._lock:
            self._creds = Credentials(can=can, mrz=mrz, id_number=id_number, date_of_birth=date_of_birth)
            self._creds_at = time.monotonic()

    def _take_creds(self) -> Credentials | None:
        with self._lock:
            if self._creds and time.monotonic() - self._creds_at > self.expect_seconds:
                self._creds = None
            return self._creds

    def start(self, on_scan: ScanCallback, on_status: StatusCallback | None = None) -> None:
        self._on_status = on_status
        self._thread = threading.Thread(target=self._run, args=(on_scan,), name="chip-source", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(5)

    def _status_is(self, connected: bool, detail: str) -> None:
        if self._status != (connected, detail) and self._on_status:
            self._on_status(DeviceStatus("reader", connected, detail))
        self._status = (connected, detail)

    def probe(self, timeout: float = 5.0) -> Probe:
        """pcscd answers, a reader is connected, and one matches `reader.name`; no card is touched."""
        details: dict[str, str | int | bool | list[str]] = {"configured": self.reader_name}
        if importlib.util.find_spec("smartcard") is None:  # pyscard is the `chip` extra
            details["socket"] = PCSCD_SOCKET.exists()
            return Probe("reader", False, False, "not_installed", details=details)
        try:
            names = call_with_timeout(list_readers, timeout)
        except (ReaderUnavailable, TimeoutError) as e:
            details["error"] = type(e).__name__
            details["message"] = str(e)[:200]
            return Probe("reader", False, False, "pcscd_down", details=details)
        details["readers"] = names
        if not names:
            return Probe("reader", False, False, "no_reader", details=details)
        if self.reader_name and not any(self.reader_name.lower() in n.lower() for n in names):
            return Probe("reader", False, False, "no_match", details=details)
        return Probe("reader", True, True, details=details)

    def _run(self, on_scan: ScanCallback) -> None:
        card_done = False  # one read per placement
        while not self._stop.is_set():
            try:
                conn = PcscConnection(self.reader_name)
            except NoCard:
                card_done = False
                self._status_is(True, "no_card")
                self._stop.wait(self.poll)
                continue
            except Exception as e:
                if not isinstance(e, ReaderUnavailable):
                    log.warning("event=chip_source_connect_failed error=%s", type(e).__name__)
                card_done = False
                self._status_is(False, "no_reader")
                self._stop.wait(self.poll)
                continue
            try:
                if card_done:
                    self._stop.wait(self.poll)
                    continue
                creds = self._take_creds()
                if creds is None:
                    self._status_is(True, "need_qr")
                    self._stop.wait(self.poll)
                    continue
                self._status_is(True, "reading")
                reader = ChipReader(conn, extended=self.extended)
                result = reader.read_identity(creds, trust=self.trust)
                card_done = True
                with self._lock:
                    self._creds = None
                self._status_is(True, "read")
                on_scan(ScanEvent(b"", source="chip", document=result))
                if self.photo:
                    read_photo_after(reader, result, self.on_photo)
            except AccessDenied:
                card_done = True
                self._status_is(True, "access_denied")
            except CardRemoved:
                self._status_is(True, "card_removed")
            except ChipError as e:
                card_done = True
                log.warning("event=chip_source_error error=%s", type(e).__name__)
                self._status_is(True, "read_failed")
            except Exception:  # never let the reader thread die: log where, report, keep polling
                log.exception("event=chip_source_unexpected")
                self._status_is(False, "no_reader")
                self._stop.wait(1.0)
            finally:
                conn.close()


def read_photo_after(reader: ChipReader, document: ChipRead, on_photo: PhotoCallback | None) -> None:
    """DG2 after the result has gone to the core: the face for the console, or a log line saying why not."""
    t0 = time.perf_counter()
    try:
        photo = reader.read_photo()
    except CardRemoved:
        log.info("event=chip_photo_not_read reason=card_removed")
        return
    except ChipError as e:
        log.warning("event=chip_photo_not_read reason=%s", type(e).__name__)
        return
    log.info("event=chip_photo_read seconds=%.3f size=%d", time.perf_counter() - t0, len(photo[1]))
    if on_photo is not None:
        on_photo(document, photo)
