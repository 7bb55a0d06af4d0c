"""The bridge between drivers, the core and the screens.

Threads: drivers call back on their own threads; `CheckinBridge` moves each
scan to a worker QThread, which runs the check-in service (SQLite I/O) and
sends the outcome back to the GUI thread by a queued signal. Desk work
(console queries, services, printing) runs on a second worker thread, so a
slow printer never delays the next check-in. Nothing here touches hardware
or the database on the GUI thread.
"""

from __future__ import annotations

import itertools
import logging
from datetime import datetime
from typing import Any, Callable

from PySide6.QtCore import QMetaObject, QObject, Qt, QThread, Signal, Slot
from PySide6.QtGui import QFont, QFontDatabase

from drivers.scan import DeviceStatus
from kiosk.services.checkin import CheckinService, Outcome, Refusal  # noqa: F401  (Outcome re-exported)
from kiosk.clock import VN_TZ
from kiosk.domain import ScanEvent
from kiosk.logs import event

log = logging.getLogger(__name__)

PREFERRED_FONTS = ("Noto Sans", "DejaVu Sans")


def apply_font(app) -> str:
    """Pick a font that has Vietnamese glyphs; Qt's fallback may not."""
    families = set(QFontDatabase.families())
    for family in PREFERRED_FONTS:
        if family in families:
            app.setFont(QFont(family, 14))
            return family
    return app.font().family()


def chip_photo(document) -> bytes | None:
    """The face image a chip read carries (DG2), if any; kept in memory only, for the console."""
    for attr in ("photo", "face_image", "dg2_image"):
        value = getattr(document, attr, None)
        if isinstance(value, (bytes, bytearray)) and value:
            return bytes(value)
    return None


def document_expired(document, visit_date: str) -> bool:
    """True when a read document (a chip read, an MRZ) states an expiry date before the visit's date."""
    if document is None:
        return False
    fields = getattr(document, "fields", None)
    expiry = (fields.get("expiry_date") if isinstance(fields, dict) else None) or getattr(document, "expiry_date", None)
    return isinstance(expiry, str) and len(expiry) == 10 and expiry < visit_date


class _Worker(QObject):
    outcome = Signal(object)
    photo = Signal(int, bytes)

    def __init__(self, service: CheckinService):
        super().__init__()
        self.service = service
        self.chip = None  # a chip source with expect(): told the number a QR gave, to open the chip next
        self._chip_visits: dict[int, tuple[object, int]] = {}  # id(ChipRead) → (it, visit_id): photo read later

    def _expect_chip(self, scan: ScanEvent, result) -> None:
        """After a CCCD QR: give the chip reader the ID number and birth date that open this card's chip."""
        if self.chip is None or not result.ok or scan.source == "chip" or result.patient.get("document_kind") != "cccd_qr":
            return
        try:
            from datetime import date

            from kiosk import documents
            doc = documents.parse(scan.payload)
            self.chip.expect(doc.id_number, date_of_birth=date.fromisoformat(doc.date_of_birth))
        except Exception as e:  # the verified read is optional: the QR check-in stands
            event(log, "chip_expect_failed", logging.WARNING, error=type(e).__name__)

    @Slot()
    def drain(self) -> None:
        """Runs after every scan queued before it: lets shutdown wait for them (see CheckinBridge.shutdown)."""

    @Slot(object)
    def handle(self, scan: ScanEvent) -> None:
        try:
            result = self.service.handle(scan)
        except Exception:  # a bug must not kill the kiosk; the log says where
            log.exception("event=checkin_crashed source=%s", scan.source)
            result = Refusal("storage", "internal error", scan.source)
        self._expect_chip(scan, result)
        if result.ok and document_expired(scan.document, result.visit_date):
            import dataclasses
            result = dataclasses.replace(result, flags=[*result.flags, "document_expired"])  # for the screen only
        if result.ok and scan.document is not None:
            photo = chip_photo(scan.document)
            if photo:
                self.photo.emit(result.visit_id, photo)
            elif scan.source == "chip":
                self._chip_visits[id(scan.document)] = (scan.document, result.visit_id)
                while len(self._chip_visits) > 8:
                    self._chip_visits.pop(next(iter(self._chip_visits)))
        self.outcome.emit(result)

    @Slot(object, object)
    def photo_after(self, document, photo) -> None:
        """The chip source read DG2 after the result went out: give it to the console for that visit."""
        entry = self._chip_visits.pop(id(document), None)
        if entry is not None and entry[0] is document and photo and photo[1]:
            self.photo.emit(entry[1], bytes(photo[1]))


class _DeskWorker(QObject):
    done = Signal(int, object, object)

    def __init__(self, service: CheckinService):
        super().__init__()
        self.service = service

    @Slot(str, str)
    def record_device(self, kind: str, state: str) -> None:
        """A device's state into the store, for kiosk-sync's heartbeat (kiosk.services.device_status). Off the GUI thread."""
        from kiosk.services import device_status
        try:
            if device_status.record(self.service.db, kind, state, self.service.clock.now()):
                event(log, "device_state", device=kind, state=state)
        except Exception as e:  # the heartbeat's view of a device must never disturb check-in
            event(log, "device_state_not_recorded", logging.WARNING, device=kind, error=type(e).__name__)

    @Slot(object)
    def start_devices(self, configured) -> None:
        from kiosk.services import device_status
        try:
            device_status.start_session(self.service.db, configured, self.service.clock.now())
        except Exception as e:
            event(log, "device_state_not_recorded", logging.WARNING, device="all", error=type(e).__name__)

    @Slot(int, object)
    def run(self, job: int, fn) -> None:
        try:
            result, error = fn(self.service), None
        except Exception as e:  # handed back to the screen that asked, which says what to do
            if not hasattr(e, "reason"):
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

    def __init__(self, service: CheckinService, *, printer=None, voice=None, chip=None):
        super().__init__()
        self.service = service
        self.printer = printer
        self.voice = voice
        self._thread = QThread()
        self._thread.setObjectName("checkin-worker")
        self._worker = _Worker(service)
        self._worker.chip = chip
        self._worker.moveToThread(self._thread)
        self.scanned.connect(self._worker.handle)
        self._worker.outcome.connect(self.outcome)
        self._worker.outcome.connect(lambda _o: self.visits_changed.emit())
        self._worker.photo.connect(self.photo)
        self._chip_photo.connect(self._worker.photo_after)  # queued behind the scan it belongs to
        if chip is not None and hasattr(chip, "on_photo"):
            chip.on_photo = self._chip_photo.emit
        self._thread.start()
        self._desk_thread = QThread()
        self._desk_thread.setObjectName("desk-worker")
        self._desk = _DeskWorker(service)
        self._desk.moveToThread(self._desk_thread)
        self._job.connect(self._desk.run)
        self._desk.done.connect(self._job_done)
        self._device_state.connect(self._desk.record_device)
        self._start_devices.connect(self._desk.start_devices)
        self._desk_thread.start()
        self._ids = itertools.count(1)
        self._callbacks: dict[int, Callable[[Any, Exception | None], None]] = {}

    # Driver callbacks: emitting a signal is thread-safe; the slot runs on the worker.
    def on_scan(self, scan: ScanEvent) -> None:
        self.scanned.emit(scan)

    def on_status(self, status: DeviceStatus) -> None:
        self.status.emit(status)
        self.record_device(status.device, status.connected, status.detail)
        if status.device == "reader" and status.detail == "reading":
            self.reading.emit("chip", 0.1)

    def record_device(self, device: str, connected: bool, detail: str = "") -> None:
        """Any thread: a driver's status report, recorded in the store (desk thread) for the heartbeat."""
        from kiosk.services import device_status
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
        if printer is not None and hasattr(printer, "status"):
            def ask(_svc):
                connected, detail = printer.status()
                self.record_device("printer", connected, detail)
            self.submit(ask, lambda _r, _e: None)

    @property
    def chip(self):
        return self._worker.chip

    def on_reading(self, source: str = "chip", fraction: float = 0.0) -> None:
        self.reading.emit(source, float(fraction))

    # Desk work: `fn(service)` runs on the desk thread; `callback(result, error)` on the GUI thread.
    def submit(self, fn: Callable[[CheckinService], Any], callback: Callable[[Any, Exception | None], None]) -> int:
        job = next(self._ids)
        self._callbacks[job] = callback
        self._job.emit(job, fn)
        return job

    @Slot(int, object, object)
    def _job_done(self, job: int, result, error) -> None:
        cb = self._callbacks.pop(job, None)
        if cb is not None:
            cb(result, error)

    def issue_ticket(self, checkin, service, lang: str, facility: str, callback, *, staff_id: int | None = None,
                     reprint: bool = False) -> int:
        """Record the service on the visit, then print its ticket: (service, printed, printer error reason)."""
        printer = self.printer

        def job(svc: CheckinService):
            from kiosk import store
            from kiosk.services import desk
            now = svc.clock.now()
            with store.transaction(svc.db) as conn:
                if service is not None:
                    desk.add_service(conn, checkin.visit_id, service.code, staff_id, now)
            printed, reason = None, None
            if printer is not None:
                from drivers.printer import PrinterError, Ticket
                from ui.common import T, tr
                label = service.label(lang) if service is not None else ""
                ticket = Ticket(facility, checkin.queue_number, label,
                                datetime.fromisoformat(checkin.created_at.replace("Z", "+00:00"))
                                .astimezone(VN_TZ).strftime("%d/%m/%Y %H:%M"),
                                heading=T(lang, tr("Queue number")))
                try:
                    printed = printer.print_ticket(ticket)
                    with store.transaction(svc.db) as conn:
                        desk.record_print(conn, checkin.visit_id, staff_id, now, reprint=reprint)
                    self.record_device("printer", True)
                except PrinterError as e:
                    reason = e.reason if e.reason in ("offline", "paper_out") else "offline"
                    event(log, "ticket_not_printed", logging.WARNING, reason=e.reason)
                    self.record_device("printer", False, reason)
            return service, printed, reason

        def done(result, error):
            self.visits_changed.emit()
            callback(result, error)
        return self.submit(job, done)

    def shutdown(self) -> None:
        # A scan already queued to the worker (SIGTERM as a card is read) is checked in, not dropped:
        # a blocking call to a no-op slot returns only after everything queued before it has run.
        if self._thread.isRunning():
            QMetaObject.invokeMethod(self._worker, "drain", Qt.ConnectionType.BlockingQueuedConnection)
        for t in (self._thread, self._desk_thread):
            t.quit()
            t.wait(3000)


def make_recheck(cfg):
    """The console's "re-check pending insurance online": the national lookup (or the hub's relay) as the
    signed-in officer — the lookup requires the looking-up officer's own name and ID number."""
    def recheck(svc: CheckinService, staff_id: int | None):
        from kiosk.services import staff
        from sync import national_lookup
        gateway = national_lookup.from_config(cfg)
        if gateway is None:
            return None
        if staff_id is not None and hasattr(gateway, "staff_id_number"):
            gateway.staff_name = staff.get(svc.db.conn, staff_id).full_name
            gateway.staff_id_number = staff.officer_id_number(svc.db.conn, staff_id)
        if hasattr(gateway, "login"):
            gateway.login()
        return len(national_lookup.recheck_pending(svc.db, gateway, cfg["facility.code"]))
    return recheck


from ui.patient.window import KioskWindow, eligibility_words  # noqa: E402,F401  (the window, for ui.run and ui.demo)
