"""The bridge between the devices, the core and the screens.

Threads: drivers call back on their own threads; `CheckinBridge` moves each
scan to a worker QThread, which runs the check-in service (SQLite I/O) and
sends the outcome back to the GUI thread by a queued signal. Desk work
(console reads and services, tickets, printer status) runs on a second
worker thread, so a slow printer never delays the next check-in. Each worker
opens its own database connection from the App (SQLite connections stay on
their thread). Nothing here touches hardware or the database on the GUI
thread.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
from datetime import date
from typing import Any, Callable

from PySide6.QtCore import QMetaObject, QObject, Qt, QThread, Signal, Slot
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication

from drivers.protocols import ChipSource, DeviceStatus
from kiosk import documents
from kiosk.app import App
from kiosk.documents.cccd import CccdQr
from kiosk.domain import ScanEvent
from kiosk.errors import KioskError
from kiosk.logs import event
from kiosk.services import device_status, tickets
from kiosk.services.checkin import Checkin, CheckinService, Outcome, Refusal
from kiosk.services.desk import Service
from kiosk.store import Database
from ui.ops import Op

log = logging.getLogger(__name__)

PREFERRED_FONTS = ("Noto Sans", "DejaVu Sans")
MAX_PENDING_PHOTOS = 8


def apply_font(app: QApplication) -> str:
    """Pick a font that has Vietnamese glyphs; Qt's fallback may not."""
    families = set(QFontDatabase.families())
    for family in PREFERRED_FONTS:
        if family in families:
            app.setFont(QFont(family, 14))
            return family
    return app.font().family()


def chip_photo(document: object) -> bytes | None:
    """The face image a chip read carries (DG2), if any; kept in memory only, for the console."""
    for attr in ("photo", "face_image", "dg2_image"):
        value = getattr(document, attr, None)
        if isinstance(value, (bytes, bytearray)) and value:
            return bytes(value)
    return None


def document_expired(document: object, visit_date: str) -> bool:
    """True when a read document (a chip read, an MRZ) states an expiry date before the visit's date."""
    if document is None:
        return False
    fields = getattr(document, "fields", None)
    expiry = (fields.get("expiry_date") if isinstance(fields, dict) else None) or getattr(document, "expiry_date", None)
    return isinstance(expiry, str) and len(expiry) == 10 and expiry < visit_date


class _Worker(QObject):
    """The check-in thread: one service on its own connection, opened on first use on this thread."""

    outcome = Signal(object)
    photo = Signal(int, bytes)

    def __init__(self, app: App, chip: ChipSource | None):
        super().__init__()
        self.app = app
        self.chip = chip  # told the number a CCCD QR gave, to open that card's chip next
        self._service: CheckinService | None = None
        self._chip_visits: dict[int, tuple[object, int]] = {}  # id(ChipRead) → (it, visit_id): photo read later

    @property
    def service(self) -> CheckinService:
        if self._service is None:
            self._service = self.app.checkin_service(self.app.database())
        return self._service

    def close(self) -> None:
        """After the thread has stopped: its connection is closed."""
        if self._service is not None:
            self._service.db.close()

    def _expect_chip(self, scan: ScanEvent, result: Outcome) -> None:
        """After a CCCD QR: give the chip reader the ID number and birth date that open this card's chip."""
        if self.chip is None or not isinstance(result, Checkin) or scan.source == "chip" \
                or result.patient.get("document_kind") != "cccd_qr":
            return
        try:
            doc = documents.parse(scan.payload)
            if isinstance(doc, CccdQr):
                self.chip.expect(doc.id_number, date_of_birth=date.fromisoformat(doc.date_of_birth))
        except Exception as e:  # the verified read is optional: the QR check-in stands
            event(log, "chip_expect_failed", logging.WARNING, error=type(e).__name__)

    @Slot()
    def drain(self) -> None:
        """Runs after every scan queued before it: lets shutdown wait for them (see CheckinBridge.shutdown)."""

    @Slot(object)
    def handle(self, scan: ScanEvent) -> None:
        result: Outcome
        try:
            result = self.service.handle(scan)
        except Exception:  # a bug must not kill the kiosk; the log says where
            log.exception("event=checkin_crashed source=%s", scan.source)
            result = Refusal("storage", "internal error", scan.source)
        self._expect_chip(scan, result)
        if isinstance(result, Checkin) and document_expired(scan.document, result.visit_date):
            result = dataclasses.replace(result, flags=[*result.flags, "document_expired"])  # for the screen only
        if isinstance(result, Checkin) and scan.document is not None:
            photo = chip_photo(scan.document)
            if photo:
                self.photo.emit(result.visit_id, photo)
            elif scan.source == "chip":
                self._chip_visits[id(scan.document)] = (scan.document, result.visit_id)
                while len(self._chip_visits) > MAX_PENDING_PHOTOS:
                    self._chip_visits.pop(next(iter(self._chip_visits)))
        self.outcome.emit(result)

    @Slot(object, object)
    def photo_after(self, document: object, photo: tuple[str, bytes] | None) -> None:
        """The chip source read DG2 after the result went out: give it to the console for that visit."""
        entry = self._chip_visits.pop(id(document), None)
        if entry is not None and entry[0] is document and photo and photo[1]:
            self.photo.emit(entry[1], bytes(photo[1]))


class _DeskWorker(QObject):
    """The desk thread: console reads and services, tickets, device states; its own connection."""

    done = Signal(int, object, object)

    def __init__(self, app: App):
        super().__init__()
        self.app = app
        self._db: Database | None = None

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = self.app.database()
        return self._db

    def close(self) -> None:
        """After the thread has stopped: its connection is closed."""
        if self._db is not None:
            self._db.close()

    @Slot(str, str)
    def record_device(self, kind: str, state: str) -> None:
        """A device's state into the store, for kiosk-sync's heartbeat (kiosk.services.device_status)."""
        try:
            if device_status.record(self.db, kind, state):
                event(log, "device_state", device=kind, state=state)
        except Exception as e:  # the heartbeat's view of a device must never disturb check-in
            event(log, "device_state_not_recorded", logging.WARNING, device=kind, error=type(e).__name__)

    @Slot(object)
    def start_devices(self, configured: dict[str, bool]) -> None:
        try:
            device_status.start_session(self.db, configured)
        except Exception as e:
            event(log, "device_state_not_recorded", logging.WARNING, device="all", error=type(e).__name__)

    @Slot(int, object)
    def run(self, job: int, fn: Callable[[Database], Any]) -> None:
        try:
            result, error = fn(self.db), None
        except Exception as e:  # handed back to the screen that asked, which says what to do
            if not isinstance(e, KioskError):  # a refusal (ParseError included) is expected; anything else is a bug
                log.exception("event=desk_job_failed")
            result, error = None, e
        self.done.emit(job, result, error)


class CheckinBridge(QObject):
    """Receives driver callbacks on any thread; runs check-ins and desk work on worker threads."""

    scanned = Signal(object)
    outcome = Signal(object)
    status = Signal(object)
    reading = Signal(str, float)  # a chip read started/progressing: source, fraction done
    photo = Signal(int, bytes)  # visit_id, chip face image (console only, memory only)
    visits_changed = Signal()
    _job = Signal(int, object)
    _chip_photo = Signal(object, object)  # ChipRead, (format, image): DG2 read after the result
    _device_state = Signal(str, str)  # kind, ok|absent|fault → the store (desk thread), for the heartbeat
    _start_devices = Signal(object)

    def __init__(self, app: App):
        super().__init__()
        self.app = app
        self.printer = app.devices.printer
        self.voice = app.devices.voice
        chip = app.devices.chip
        self._thread = QThread()
        self._thread.setObjectName("checkin-worker")
        self._worker = _Worker(app, chip)
        self._worker.moveToThread(self._thread)
        self.scanned.connect(self._worker.handle)
        self._worker.outcome.connect(self.outcome)
        self._worker.outcome.connect(lambda _o: self.visits_changed.emit())
        self._worker.photo.connect(self.photo)
        self._chip_photo.connect(self._worker.photo_after)  # queued behind the scan it belongs to
        if chip is not None:
            chip.on_photo = self._chip_photo.emit
        self._thread.start()
        self._desk_thread = QThread()
        self._desk_thread.setObjectName("desk-worker")
        self._desk = _DeskWorker(app)
        self._desk.moveToThread(self._desk_thread)
        self._job.connect(self._desk.run)
        self._desk.done.connect(self._job_done)
        self._device_state.connect(self._desk.record_device)
        self._start_devices.connect(self._desk.start_devices)
        self._desk_thread.start()
        self._ids = itertools.count(1)
        self._callbacks: dict[int, Callable[[Any, Exception | None], None]] = {}

    @property
    def chip(self) -> ChipSource | None:
        return self._worker.chip

    # Driver callbacks: emitting a signal is thread-safe; the slot runs on the worker.
    def on_scan(self, scan: ScanEvent) -> None:
        self.scanned.emit(scan)

    def on_status(self, status: DeviceStatus) -> None:
        self.status.emit(status)
        self.record_device(status.device, status.connected, status.detail)
        if status.device == "reader" and status.detail == "reading":
            self.reading.emit("chip", 0.1)

    def on_reading(self, source: str = "chip", fraction: float = 0.0) -> None:
        self.reading.emit(source, float(fraction))

    def record_device(self, device: str, connected: bool, detail: str = "") -> None:
        """Any thread: a driver's status report, recorded in the store (desk thread) for the heartbeat."""
        try:
            kind, state = device_status.state_of(device, connected, detail)
        except ValueError:
            return
        self._device_state.emit(kind, state)

    def start_devices(self, configured: dict[str, bool]) -> None:
        """At start, before the sources: unconfigured devices `absent`, configured ones `fault` until they report;
        the printer (not a scan source) is asked once, on the desk thread."""
        self._start_devices.emit(dict(configured))
        printer = self.printer
        if printer is not None:
            def ask(_db: Database) -> None:
                connected, detail = printer.status()
                self.record_device("printer", connected, detail)
            Op(ask).failure(lambda e: None).run(self)

    # Desk work: `fn(db)` runs on the desk thread; `callback(result, error)` on the GUI thread (see ui.ops.Op).
    def submit(self, fn: Callable[[Database], Any], callback: Callable[[Any, Exception | None], None]) -> int:
        job = next(self._ids)
        self._callbacks[job] = callback
        self._job.emit(job, fn)
        return job

    @Slot(int, object, object)
    def _job_done(self, job: int, result: Any, error: Exception | None) -> None:
        cb = self._callbacks.pop(job, None)
        if cb is not None:
            cb(result, error)

    def ticket(self, checkin: tickets.NumberedVisit, service: Service | None, lang: str, facility: str, *,
               staff_id: int | None = None, reprint: bool = False) -> Op[tickets.IssuedTicket]:
        """The ticket service as an Op (add the service, print, record); the queue hears of it either way."""
        printer = self.printer

        def changed(_: object) -> None:
            self.visits_changed.emit()
        return Op(lambda db: tickets.issue_ticket(db, printer, checkin, service, lang, facility, staff_id, reprint)) \
            .success(changed).failure(changed)

    def shutdown(self) -> None:
        # A scan already queued to the worker (SIGTERM as a card is read) is checked in, not dropped:
        # a blocking call to a no-op slot returns only after everything queued before it has run.
        if self._thread.isRunning():
            QMetaObject.invokeMethod(self._worker, "drain", Qt.ConnectionType.BlockingQueuedConnection)
        for t in (self._thread, self._desk_thread):
            t.quit()
            t.wait(3000)
        self._worker.close()
        self._desk.close()
