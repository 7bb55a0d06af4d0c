"""The patient's side: idle → (reading | verify) → result + service → ticket, and error screens.

It renders what the core returns and sends intents (choose a service, skip,
change language) through the bridge; it never touches the database or a
device itself. Only the masked ID is ever shown here, never the chip photo.
"""

from __future__ import annotations

import logging
from datetime import datetime

from PySide6.QtCore import QRectF, Qt, QTimer, Slot
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (QGridLayout, QHBoxLayout, QProgressBar, QSizePolicy, QStackedWidget, QVBoxLayout,
                               QWidget)

from drivers.scan import DeviceStatus
from kiosk.clock import VN_TZ
from kiosk.services.desk import Service
from kiosk.logs import event
from ui.common import ActivityFilter, Label, Metrics, T, TButton, TLabel, retranslate_tree, stylesheet, tr

log = logging.getLogger(__name__)

DEFAULT_SERVICES = [Service("kham_benh", "Khám bệnh", "General check-up")]
QR_SOURCES = ("serial", "camera", "hid")
# What the chip source reports (drivers.chip.source) → the error screen that tells the patient what to do.
CHIP_ERRORS = {"card_removed": "chip_failed", "read_failed": "chip_failed", "access_denied": "chip_unsupported",
               "need_qr": "need_qr"}


def _vn_date(iso: str | None) -> str:
    if not iso:
        return "?"
    y, m, d = iso[:10].split("-")
    return f"{d}/{m}/{y}"


def _local_time(iso: str | None) -> str:
    if not iso:
        return "?"
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(VN_TZ).strftime("%H:%M %d/%m")
    except ValueError:
        return iso[11:16]


REASONS = {
    "010": tr("Your health-insurance card has expired."),
    "110": tr("Your health-insurance card has been revoked."),
    "120": tr("Your health-insurance card is no longer active."),
    "121": tr("Your health-insurance card is no longer active."),
    "122": tr("Your health-insurance card is no longer active."),
    "123": tr("Your health-insurance card is no longer active."),
    "124": tr("Your health-insurance card is no longer active."),
    "050": tr("Your card was not found in the insurance records."),
    "051": tr("Your card was not found in the insurance records."),
    "052": tr("Your card was not found in the insurance records."),
    "053": tr("Your card was not found in the insurance records."),
    "060": tr("The name on your card does not match the insurance records."),
    "061": tr("The name on your card does not match the insurance records."),
    "070": tr("The date of birth on your card does not match the insurance records."),
    "K03": tr("Your card is registered at a facility in another province."),
}


def eligibility_parts(e: dict) -> tuple[str, dict, str, str, dict, str]:
    """(headline, its params, reason, source line, its params, next step) as marked source strings."""
    code = e.get("result_code") or ""
    next_step = ""
    source = e.get("source")
    if code in {"000", "001", "002", "003", "004"}:
        pct = e.get("benefit_percent")
        head, hp = (tr("Covered by health insurance at {percent}%"), {"percent": pct}) if pct else \
            (tr("Covered by health insurance"), {})
        reason = ""
    elif source == "none" or code in ("K02", ""):
        head, hp, reason = tr("We cannot check your health insurance right now"), {}, \
            tr("You will be seen as usual; the receptionist will check it later.")
    else:
        head, hp = tr("Not covered by health insurance"), {}
        reason = REASONS.get(code, tr("The insurance check did not succeed."))
        next_step = tr("You can still be seen. Please ask the receptionist about payment.")
    if source == "roster":
        src, sp = tr("Checked against the insurance list of {date}"), {"date": _vn_date(e.get("as_of"))}
    elif source == "gateway":
        src, sp = tr("Checked online at {time}"), {"time": _local_time(e.get("as_of"))}
    else:
        src, sp = tr("Not checked yet (no connection)"), {}
    return head, hp, reason, src, sp, next_step


def eligibility_words(e: dict, lang: str) -> str:
    head, hp, reason, src, sp, _ = eligibility_parts(e)
    parts = [T(lang, head, **hp)] + ([T(lang, reason)] if reason else []) + [T(lang, src, **sp)]
    return " — ".join(parts)


class CardAnimation(QWidget):
    """A card sliding onto the reader and back: shows what to do without words."""

    def __init__(self):
        super().__init__()
        self.phase = 0
        self._timer = QTimer(self)
        self._timer.setInterval(50)
        self._timer.timeout.connect(self._tick)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumHeight(40)

    def showEvent(self, e):  # animate only while visible (no wasted CPU)
        self._timer.start()
        super().showEvent(e)

    def hideEvent(self, e):
        self._timer.stop()
        super().hideEvent(e)

    def _tick(self):
        self.phase = (self.phase + 1) % 60
        self.update()

    def paintEvent(self, _):
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        w, h = self.width(), self.height()
        size = min(h * 0.8, w * 0.25)
        reader = QRectF(w / 2 + size * 0.2, h - size * 0.45 - 4, size * 1.1, size * 0.45)
        p.setPen(QPen(QColor("#111111"), 3))
        p.setBrush(QColor("#d0d7e2"))
        p.drawRoundedRect(reader, 6, 6)
        t = self.phase / 59
        x = w / 2 - size * 1.2 + (size * 1.45) * (t * 2 if t < 0.5 else 1.0)
        card = QRectF(x, reader.top() - size * 0.55 + (size * 0.25 if t >= 0.5 else 0), size, size * 0.62)
        p.setBrush(QColor("#0b3d91"))
        p.drawRoundedRect(card, 8, 8)
        p.setBrush(QColor("#f2c14e"))
        p.drawRect(QRectF(card.left() + size * 0.12, card.top() + size * 0.2, size * 0.18, size * 0.14))
        p.end()


class IdleScreen(QWidget):
    def __init__(self, facility_name: str):
        super().__init__()
        lay = QVBoxLayout(self)
        top = QHBoxLayout()
        self.facility = Label("heading", name="facility", align=Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.facility.setText(facility_name)
        self.lang_button = TButton(tr("Other language"), "secondary", name="lang_button")
        self.lang_button.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Preferred)
        top.addWidget(self.facility, 1)
        top.addWidget(self.lang_button)
        lay.addLayout(top)
        self.title = TLabel(tr("Welcome"), "title", name="title")
        self.prompt = TLabel(tr("Scan the QR code on your ID card or place the card on the reader"), "body",
                             name="prompt")
        self.animation = CardAnimation()
        steps = QHBoxLayout()
        self.step_qr = TLabel(tr("QR code: hold it under the scanner"), "small", name="step_qr")
        self.step_chip = TLabel(tr("Chip card: lay it flat on the reader"), "small", name="step_chip")
        steps.addWidget(self.step_qr)
        steps.addWidget(self.step_chip)
        self.status = TLabel("", "banner", name="status")
        self.status.hide()
        lay.addWidget(self.title)
        lay.addWidget(self.prompt)
        lay.addWidget(self.animation, 1)
        lay.addLayout(steps)
        lay.addWidget(self.status)


class ReadingScreen(QWidget):
    def __init__(self):
        super().__init__()
        lay = QVBoxLayout(self)
        self.heading = TLabel(tr("Reading your card…"), "title", name="heading")
        self.hint = TLabel(tr("Hold the card still on the reader until this finishes"), "heading", name="hint")
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setTextVisible(False)
        lay.addStretch(1)
        for w in (self.heading, self.hint, self.progress):
            lay.addWidget(w)
        lay.addStretch(1)


class VerifyScreen(QWidget):
    """After a QR of a chip card: invite a verified chip read; skippable."""

    def __init__(self):
        super().__init__()
        lay = QVBoxLayout(self)
        self.heading = TLabel(tr("Place your card on the reader"), "title", name="heading")
        self.hint = TLabel(tr("Reading the chip confirms your identity. You can also skip this step."),
                           "body", name="hint")
        self.animation = CardAnimation()
        self.skip = TButton(tr("Skip"), "secondary", name="skip")
        lay.addWidget(self.heading)
        lay.addWidget(self.hint)
        lay.addWidget(self.animation, 1)
        lay.addWidget(self.skip)


class ResultScreen(QWidget):
    def __init__(self):
        super().__init__()
        lay = QVBoxLayout(self)
        self.heading = TLabel(tr("Your details"), "heading", name="heading")
        self.name = Label("name", name="name")
        self.masked_id = TLabel("", "body", name="masked_id")
        self.bhyt = TLabel("", "heading", name="bhyt")
        self.reason = TLabel("", "body", name="reason")
        self.next_step = TLabel("", "small", name="next_step")
        self.source = TLabel("", "small", name="source")
        self.note = TLabel("", "small", name="note")
        self.doc_note = TLabel("", "banner", name="doc_note")
        self.choose = TLabel(tr("Choose a service:"), "body", name="choose")
        for w in (self.heading, self.name, self.masked_id, self.bhyt, self.reason, self.next_step, self.source,
                  self.note, self.doc_note):
            lay.addWidget(w)
        lay.addStretch(1)  # spare height (a portrait panel) gathers here, not between the lines
        lay.addWidget(self.choose)
        self.grid = QGridLayout()
        lay.addLayout(self.grid)
        self.service_buttons: list[TButton] = []
        self.cancel = TButton(tr("This is not me"), "secondary", name="not_me")
        lay.addWidget(self.cancel)

    def set_services(self, services: list[Service], lang: str, columns: int) -> None:
        for b in self.service_buttons:
            self.grid.removeWidget(b)
            b.deleteLater()
        self.service_buttons = []
        for i, s in enumerate(services):
            b = TButton("", name=f"service_{s.code}")
            b.service = s
            b.set_raw(s.label(lang))
            self.grid.addWidget(b, i // columns, i % columns)
            self.service_buttons.append(b)

    def show_checkin(self, c, lang: str) -> None:
        self.heading.set(tr("You already have a number today") if c.existing else tr("Your details"), lang)
        self.name.setText(c.patient.get("full_name") or "")
        masked = c.patient.get("masked_id") or ""
        if masked:
            self.masked_id.set(tr("ID number: {masked}"), lang, masked=masked)
        else:
            self.masked_id.set("", lang)
        head, hp, reason, src, sp, next_step = eligibility_parts(c.eligibility)
        self.bhyt.set(head, lang, **hp)
        self.reason.set(reason, lang)
        self.next_step.set(next_step, lang)
        self.source.set(src, lang, **sp)
        self.note.set("" if c.clock_synced else tr("The device clock is not set; the staff will check the time."),
                      lang)
        self.doc_note.set(tr("Your ID card has expired: you are checked in, but please renew it soon.")
                          if "document_expired" in c.flags else "", lang)
        for w in (self.masked_id, self.reason, self.next_step, self.source, self.note, self.doc_note):
            w.setVisible(bool(w.source))  # no blank gaps between the lines that are there

    def clear(self) -> None:
        for w in (self.name, self.masked_id, self.bhyt, self.reason, self.next_step, self.source, self.note,
                  self.doc_note):
            if isinstance(w, TLabel):
                w.source, w.params = "", {}
            w.setText("")


class TicketScreen(QWidget):
    def __init__(self):
        super().__init__()
        lay = QVBoxLayout(self)
        self.heading = TLabel(tr("Your queue number"), "heading", name="heading")
        self.queue_number = Label("number", name="queue_number")
        self.service = Label("heading", name="service")
        self.hint = TLabel(tr("Please take your ticket and wait until your number is called"), "body", name="hint")
        self.printer_note = TLabel("", "error", name="printer_note")
        self.done = TButton(tr("Finish"), name="done")
        lay.addStretch(1)
        for w in (self.heading, self.queue_number, self.service, self.hint, self.printer_note):
            lay.addWidget(w)
        lay.addStretch(1)
        lay.addWidget(self.done)

    def clear(self) -> None:
        self.queue_number.setText("")
        self.service.setText("")
        self.printer_note.source = ""
        self.printer_note.setText("")


ERRORS = {
    # reason: (heading, what to do next)
    "unreadable": (tr("We could not read this code"),
                   tr("Show the QR code on the front of your ID card or health-insurance card, held still "
                      "under the scanner. If it still does not work, please ask the receptionist.")),
    "no_identity": (tr("This card has no ID number"),
                    tr("Please use your ID card, or ask the receptionist for help.")),
    "storage": (tr("The kiosk could not save your check-in"),
                tr("Nothing is wrong with your card. Please ask the receptionist to check you in.")),
    "chip_failed": (tr("The card was moved before we finished"),
                    tr("Place the card flat on the reader again and keep it still until the screen changes.")),
    "need_qr": (tr("Please scan the QR code on your card first"),
                tr("Hold the QR code on the front of the card under the scanner, then place the card on the reader.")),
    "chip_unsupported": (tr("We could not read this card's chip"),
                         tr("Please scan the QR code on the card instead, or ask the receptionist.")),
    "device_unplugged": (tr("The card reader is not working"),
                         tr("Please use the QR scanner, or ask the receptionist for help.")),
    "printer_offline": (tr("The ticket printer is not working"),
                        tr("Please remember your number shown here and tell the receptionist.")),
    "printer_paper_out": (tr("The ticket printer is out of paper"),
                          tr("Please remember your number shown here and tell the receptionist.")),
}


class ErrorScreen(QWidget):
    def __init__(self):
        super().__init__()
        lay = QVBoxLayout(self)
        self.heading = TLabel("", "error", name="heading")
        self.next_step = TLabel("", "heading", name="next_step")
        self.ok = TButton(tr("OK"), name="ok")
        lay.addStretch(1)
        lay.addWidget(self.heading)
        lay.addWidget(self.next_step)
        lay.addStretch(1)
        lay.addWidget(self.ok)
        self.reason = ""

    def show_reason(self, reason: str, lang: str) -> None:
        self.reason = reason
        heading, step = ERRORS.get(reason, ERRORS["storage"])
        self.heading.set(heading, lang)
        self.next_step.set(step, lang)


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
        self.last_ticket = None  # (visit, service, printed path or error)
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
        self.bridge.issue_ticket(c, service, self.lang, self.facility_name, self.on_ticket)

    def on_ticket(self, result, error) -> None:
        for b in self.result.service_buttons:
            b.setEnabled(True)
        c, service = self.current_checkin, None
        if error is not None:
            event(log, "ticket_failed", logging.ERROR, error=type(error).__name__)
            self.show_error("storage")
            return
        service, printed, printer_error = result
        self.last_ticket = (c, service, printed, printer_error)
        if c is None:
            return
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
