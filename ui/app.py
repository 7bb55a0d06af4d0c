"""The kiosk window: renders check-in outcomes from the core, sends scans to it.

Threads: drivers call back on their own threads; `CheckinBridge` moves each
scan to a worker QThread, which runs the check-in service (SQLite I/O) and
sends the outcome back to the GUI thread by a queued signal. Nothing here
touches hardware or the database on the GUI thread.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Qt, QThread, QTimer, Signal, Slot
from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QLabel, QStackedWidget, QVBoxLayout, QWidget

from drivers.scan import DeviceStatus
from kiosk.checkin import CheckinService, Outcome
from kiosk.domain import ScanEvent
from kiosk.i18n import t
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


class _Worker(QObject):
    outcome = Signal(object)

    def __init__(self, service: CheckinService):
        super().__init__()
        self.service = service

    @Slot(object)
    def handle(self, scan: ScanEvent) -> None:
        try:
            result = self.service.handle(scan)
        except Exception:  # a bug must not kill the kiosk; the log says where
            log.exception("event=checkin_crashed source=%s", scan.source)
            from kiosk.checkin import Refusal
            result = Refusal("storage", "internal error", scan.source)
        self.outcome.emit(result)


class CheckinBridge(QObject):
    """Receives driver callbacks on any thread; runs check-ins on a worker thread."""

    scanned = Signal(object)
    outcome = Signal(object)
    status = Signal(object)

    def __init__(self, service: CheckinService):
        super().__init__()
        self._thread = QThread()
        self._thread.setObjectName("checkin-worker")
        self._worker = _Worker(service)
        self._worker.moveToThread(self._thread)
        self.scanned.connect(self._worker.handle)
        self._worker.outcome.connect(self.outcome)
        self._thread.start()

    # Driver callbacks: emitting a signal is thread-safe; the slot runs on the worker.
    def on_scan(self, scan: ScanEvent) -> None:
        self.scanned.emit(scan)

    def on_status(self, status: DeviceStatus) -> None:
        self.status.emit(status)

    def shutdown(self) -> None:
        self._thread.quit()
        self._thread.wait(3000)


def _label(text: str = "", size: int = 18, bold: bool = False, name: str = "") -> QLabel:
    lab = QLabel(text)
    lab.setAlignment(Qt.AlignmentFlag.AlignCenter)
    lab.setWordWrap(True)
    font = lab.font()
    font.setPointSize(size)
    font.setBold(bold)
    lab.setFont(font)
    if name:
        lab.setObjectName(name)
    return lab


class IdleScreen(QWidget):
    def __init__(self, facility_name: str, lang: str):
        super().__init__()
        layout = QVBoxLayout(self)
        self.facility = _label(facility_name, 16, name="facility")
        self.title = _label(t("idle.title", lang), 30, True, name="title")
        self.prompt = _label(t("idle.prompt", lang), 20, name="prompt")
        self.status = _label("", 12, name="status")
        for w in (self.facility, self.title, self.prompt, self.status):
            layout.addWidget(w)


class ResultScreen(QWidget):
    def __init__(self, lang: str):
        super().__init__()
        self.lang = lang
        layout = QVBoxLayout(self)
        self.heading = _label("", 18, name="heading")
        self.queue_number = _label("", 64, True, name="queue_number")
        self.name = _label("", 22, True, name="name")
        self.masked_id = _label("", 18, name="masked_id")
        self.bhyt = _label("", 18, name="bhyt")
        self.note = _label("", 12, name="note")
        for w in (self.heading, self.queue_number, self.name, self.masked_id, self.bhyt, self.note):
            layout.addWidget(w)

    def show_outcome(self, outcome: Outcome) -> None:
        lang = self.lang
        if not outcome.ok:
            self.setStyleSheet("background: #fff3e0;")
            self.heading.setText(t("refused.title", lang))
            self.queue_number.setText("")
            self.name.setText("")
            self.masked_id.setText("")
            self.bhyt.setText(t(outcome.message_key, lang))
            self.note.setText("")
            return
        self.setStyleSheet("background: #e8f5e9;")
        self.heading.setText(t("result.existing" if outcome.existing else "result.queue", lang))
        self.queue_number.setText(str(outcome.queue_number))
        self.name.setText(outcome.patient["full_name"])
        self.masked_id.setText(f"{t('result.id', lang)}: {outcome.patient['masked_id']}")
        self.bhyt.setText(f"{t('result.bhyt', lang)}: {eligibility_words(outcome.eligibility, lang)}")
        self.note.setText("" if outcome.clock_synced else t("clock.unsynced", lang))

    def clear(self) -> None:
        for w in (self.heading, self.queue_number, self.name, self.masked_id, self.bhyt, self.note):
            w.setText("")


def eligibility_words(e: dict, lang: str) -> str:
    code = e.get("result_code") or ""
    if code in {"000", "001", "002", "003", "004"}:
        head = t("eligibility.covered", lang, percent=e.get("benefit_percent") or 0)
    elif code.startswith("K0") and e.get("source") == "none":
        head = t("eligibility.pending", lang)
    else:
        head = t("eligibility.not_covered", lang)
    reason = e.get("reason") or ""
    if e.get("source") == "roster":
        when = t("eligibility.source.roster", lang, date=_vn_date(e.get("as_of")))
    elif e.get("source") == "gateway":
        when = t("eligibility.source.gateway", lang, time=(e.get("as_of") or "")[11:16])
    else:
        when = t("eligibility.source.none", lang)
    return f"{head} — {reason} ({when})"


def _vn_date(iso: str | None) -> str:
    if not iso:
        return "?"
    y, m, d = iso[:10].split("-")
    return f"{d}/{m}/{y}"


class KioskWindow(QWidget):
    """The patient-facing window: idle ⇄ result, fed by a CheckinBridge."""

    def __init__(self, bridge: CheckinBridge, facility_name: str, lang: str = "vi",
                 result_timeout_s: float = 15.0):
        super().__init__()
        self.setWindowTitle(facility_name)
        self.bridge = bridge
        self.idle = IdleScreen(facility_name, lang)
        self.result = ResultScreen(lang)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.idle)
        self.stack.addWidget(self.result)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)
        self.lang = lang
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(int(result_timeout_s * 1000))
        self._timer.timeout.connect(self.show_idle)
        self.last_outcome: Outcome | None = None
        bridge.outcome.connect(self.on_outcome)
        bridge.status.connect(self.on_status)

    @property
    def current(self) -> str:
        return "idle" if self.stack.currentWidget() is self.idle else "result"

    @Slot(object)
    def on_outcome(self, outcome: Outcome) -> None:
        self.last_outcome = outcome
        self.result.show_outcome(outcome)
        self.stack.setCurrentWidget(self.result)
        self._timer.start()

    @Slot(object)
    def on_status(self, status: DeviceStatus) -> None:
        event(log, "device_status", device=status.device, connected=status.connected)
        if status.device == "scanner":
            self.idle.status.setText("" if status.connected else t("scanner.disconnected", self.lang))

    @Slot()
    def show_idle(self) -> None:
        self.result.clear()  # nothing about the last patient stays on screen
        self.stack.setCurrentWidget(self.idle)
