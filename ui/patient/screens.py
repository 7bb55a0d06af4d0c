"""The patient's screens: idle, reading, verify, result (with the services), ticket, and the error screens.

Each screen is a plain widget the window (ui.patient.window) switches between;
it shows what it is given and owns no state about the flow. Only the masked
ID is ever shown, never the chip photo.
"""

from __future__ import annotations

from datetime import datetime
from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QHideEvent, QPaintEvent, QPainter, QPen, QShowEvent
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QProgressBar, QSizePolicy, QVBoxLayout, QWidget

from kiosk.clock import VN_TZ
from kiosk.services.checkin import Checkin, CheckinEligibility
from kiosk.services.desk import Service
from ui.common import Label, T, TButton, TLabel, tr

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


def eligibility_parts(e: CheckinEligibility) -> tuple[str, dict[str, object], str, str, dict[str, object], str]:
    """(headline, its params, reason, source line, its params, next step) as marked source strings."""
    code = e.get("result_code") or ""
    next_step = ""
    source = e.get("source")
    hp: dict[str, object]
    sp: dict[str, object]
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


def eligibility_words(e: CheckinEligibility, lang: str) -> str:
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

    def showEvent(self, e: QShowEvent) -> None:  # animate only while visible (no wasted CPU)
        self._timer.start()
        super().showEvent(e)

    def hideEvent(self, e: QHideEvent) -> None:
        self._timer.stop()
        super().hideEvent(e)

    def _tick(self) -> None:
        self.phase = (self.phase + 1) % 60
        self.update()

    def paintEvent(self, _: QPaintEvent) -> None:
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

    def show_checkin(self, c: Checkin, lang: str) -> None:
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
