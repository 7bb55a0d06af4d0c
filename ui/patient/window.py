"""The patient's side: idle → (reading | verify) → result + service → ticket, and error screens.

It renders what the core returns and sends intents (choose a service, skip,
change language) through the bridge; it never touches the database or a
device itself. Only the masked ID is ever shown here, never the chip photo.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QTimer, Slot
from PySide6.QtWidgets import QStackedWidget, QVBoxLayout, QWidget

from drivers.scan import DeviceStatus
from kiosk.app import App
from kiosk.logs import event
from kiosk.services.desk import Service, parse_services
from kiosk.services.tickets import IssuedTicket
from ui.app import CheckinBridge
from ui.common import ActivityFilter, Metrics, retranslate_tree, stylesheet, tr
from ui.patient.screens import ERRORS, ErrorScreen, IdleScreen, ReadingScreen, ResultScreen, TicketScreen, VerifyScreen

log = logging.getLogger(__name__)

DEFAULT_SERVICES = [Service("kham_benh", "Khám bệnh", "General check-up")]
QR_SOURCES = ("serial", "camera", "hid")
# What the chip source reports (drivers.chip.source) → the error screen that tells the patient what to do.
CHIP_ERRORS = {"card_removed": "chip_failed", "read_failed": "chip_failed", "access_denied": "chip_unsupported",
               "need_qr": "need_qr"}


class KioskWindow(QWidget):
    """The patient-facing window, fed by a CheckinBridge."""

    PAGES = ("idle", "reading", "verify", "result", "ticket", "error")

    def __init__(self, bridge, facility_name: str, lang: str = "vi", result_timeout_s: float = 15.0, *,
                 services: list[Service] | None = None, idle_timeout_s: float = 60.0,
                 diagonal_in: float = 7.0, verify_chip: bool = True):
        super().__init__()
        self.setObjectName("kiosk_window")
        self.setWindowTitle(facility_name)
        self.bridge = bridge
        self.lang = self.default_lang = lang
        self.diagonal_in = diagonal_in
        self.services = services or DEFAULT_SERVICES
        self.verify_chip = verify_chip
        self.facility_name = facility_name
        self.idle = IdleScreen(facility_name)
        self.reading = ReadingScreen()
        self.verify = VerifyScreen()
        self.result = ResultScreen()
        self.ticket = TicketScreen()
        self.error = ErrorScreen()
        self.stack = QStackedWidget()
        for p in self.PAGES:
            self.stack.addWidget(getattr(self, p))
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.stack)
        self.devices: dict[str, DeviceStatus] = {}
        self.last_outcome = None
        self.last_ticket: tuple[object, IssuedTicket] | None = None  # (the check-in, what the ticket service did)
        self.current_checkin = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self.result_timeout_ms = int(result_timeout_s * 1000)
        self.idle_timeout_ms = int(idle_timeout_s * 1000)
        self._timer.timeout.connect(self.show_idle)
        self._filter = ActivityFilter(self._activity)
        self.installEventFilter(self._filter)
        for w in self.findChildren(QWidget):
            w.installEventFilter(self._filter)
        self.idle.lang_button.clicked.connect(self.toggle_language)
        self.verify.skip.clicked.connect(self._skip_verify)
        self.result.cancel.clicked.connect(self.show_idle)
        self.ticket.done.clicked.connect(self.show_idle)
        self.error.ok.clicked.connect(self.show_idle)
        bridge.outcome.connect(self.on_outcome)
        bridge.status.connect(self.on_status)
        bridge.reading.connect(self.on_reading)
        self._metrics = Metrics(800, 480, diagonal_in)
        self._build_services()
        self.set_language(lang)
        self.resize(800, 480)

    @classmethod
    def from_app(cls, bridge: CheckinBridge, app: App, *, lang: str | None = None,
                 result_timeout_s: float | None = None) -> KioskWindow:
        """The window as the configuration describes it (the `ui.*` keys are read here and nowhere else)."""
        cfg = app.config
        return cls(bridge, cfg["facility.name"], lang or cfg["ui.language"],
                   cfg["ui.result_timeout_seconds"] if result_timeout_s is None else result_timeout_s,
                   services=parse_services(cfg["ui.services"]), idle_timeout_s=cfg["ui.idle_timeout_seconds"],
                   diagonal_in=cfg["ui.screen_diagonal_inches"])

    # ----- layout and language
    def _build_services(self) -> None:
        portrait = self.height() > self.width()
        cols = 1 if portrait or len(self.services) == 1 else min(3, len(self.services))
        self.result.set_services(self.services, self.lang, cols)
        for b in self.result.service_buttons:
            b.clicked.connect(lambda _=False, s=b.service: self.choose_service(s))
            b.installEventFilter(self._filter)

    def resizeEvent(self, e):
        self._metrics = Metrics(max(1, self.width()), max(1, self.height()), self.diagonal_in)
        self.setStyleSheet(stylesheet(self._metrics))
        self._build_services()
        super().resizeEvent(e)

    @property
    def metrics(self) -> Metrics:
        return self._metrics

    def set_language(self, lang: str) -> None:
        self.lang = lang
        retranslate_tree(self, lang)
        for b in self.result.service_buttons:
            b.set_raw(b.service.label(lang))
        self._update_status_banner()

    @Slot()
    def toggle_language(self) -> None:
        self.set_language("en" if self.lang == "vi" else "vi")

    @property
    def current(self) -> str:
        return self.PAGES[self.stack.currentIndex()]

    def _go(self, page: str, timeout_ms: int | None) -> None:
        self.stack.setCurrentWidget(getattr(self, page))
        if timeout_ms:
            self._timer.start(timeout_ms)
        else:
            self._timer.stop()

    def _activity(self) -> None:
        if self.current in ("verify", "result") and self._timer.isActive():
            self._timer.start(self.idle_timeout_ms)

    # ----- from the bridge
    @Slot(str, float)
    def on_reading(self, source: str, fraction: float) -> None:
        # A card on the reader wins over whatever the last patient left on screen.
        self.reading.progress.setValue(int(max(0.0, min(1.0, fraction)) * 100))
        if self.current != "reading":
            self.result.clear()
            self.ticket.clear()
        self._go("reading", self.idle_timeout_ms)

    @Slot(object)
    def on_outcome(self, outcome) -> None:
        self.last_outcome = outcome
        if not outcome.ok:
            self.current_checkin = None
            self.show_error(outcome.reason)
            return
        # A chip read returns the visit the QR opened (same visit id); the patient row is now the chip's.
        verified = (outcome.patient.get("document_kind") == "cccd_chip" and self.current_checkin is not None
                    and self.current_checkin.visit_id == outcome.visit_id and self.current in ("verify", "reading"))
        self.current_checkin = outcome
        self.result.show_checkin(outcome, self.lang)
        if verified:
            self.result.heading.set(tr("Your details — confirmed by the card's chip"), self.lang)
        reader = self.devices.get("reader")
        if (self.verify_chip and outcome.source in QR_SOURCES and not outcome.existing
                and outcome.patient.get("document_kind") == "cccd_qr" and reader is not None and reader.connected):
            self._go("verify", self.idle_timeout_ms)
        else:
            self._go("result", self.idle_timeout_ms)

    def show_error(self, reason: str) -> None:
        self.error.show_reason(reason, self.lang)
        self._go("error", self.result_timeout_ms)

    @Slot(object)
    def on_status(self, status: DeviceStatus) -> None:
        event(log, "device_status", device=status.device, connected=status.connected)
        self.devices[status.device] = status
        self._update_status_banner()
        if status.device != "reader":
            return
        if not status.connected and self.current == "reading":
            self.show_error("device_unplugged")
        elif status.detail in CHIP_ERRORS and self.current in ("reading", "verify", "idle"):
            self.show_error(CHIP_ERRORS[status.detail])

    def _update_status_banner(self) -> None:
        down = [d for d, s in self.devices.items() if not s.connected and d in ("scanner", "reader", "camera")]
        if not down:
            self.idle.status.set("", self.lang)
            self.idle.status.hide()
            return
        if "scanner" in down and "camera" not in self.devices:
            msg = tr("The QR scanner is not working: please ask the receptionist")
        elif "reader" in down:
            msg = tr("The chip card reader is not working: please use the QR code")
        else:
            msg = tr("A device is not working: please ask the receptionist")
        self.idle.status.set(msg, self.lang)
        self.idle.status.show()

    # ----- intents
    def _skip_verify(self) -> None:
        self._go("result", self.idle_timeout_ms)

    def choose_service(self, service: Service) -> None:
        c = self.current_checkin
        if c is None:
            return
        for b in self.result.service_buttons:
            b.setEnabled(False)
        self.bridge.ticket(c, service, self.lang, self.facility_name).success(self.on_ticket).failure(
            self.on_ticket_failed).run(self.bridge)

    def on_ticket_failed(self, error: Exception) -> None:
        for b in self.result.service_buttons:
            b.setEnabled(True)
        event(log, "ticket_failed", logging.ERROR, error=type(error).__name__)
        self.show_error("storage")

    def on_ticket(self, issued: IssuedTicket) -> None:
        for b in self.result.service_buttons:
            b.setEnabled(True)
        c, printer_error = self.current_checkin, issued.printer_problem
        self.last_ticket = (c, issued)
        if c is None or issued.service is None:
            return
        service = issued.service
        self.ticket.queue_number.setText(str(c.queue_number))
        self.ticket.service.setText(service.label(self.lang))
        if printer_error:
            heading, _ = ERRORS["printer_" + printer_error] if "printer_" + printer_error in ERRORS \
                else ERRORS["printer_offline"]
            self.ticket.printer_note.set(heading, self.lang)
            self.ticket.hint.set(tr("Please remember your number shown here and tell the receptionist."), self.lang)
        else:
            self.ticket.printer_note.set("", self.lang)
            self.ticket.hint.set(tr("Please take your ticket and wait until your number is called"), self.lang)
        self._go("ticket", self.result_timeout_ms)

    @Slot()
    def show_idle(self) -> None:
        """Back to idle, and nothing about the last patient stays on any screen."""
        self.result.clear()
        self.ticket.clear()
        self.current_checkin = None
        self.reading.progress.setValue(0)
        if self.lang != self.default_lang:
            self.set_language(self.default_lang)
        self._go("idle", None)
