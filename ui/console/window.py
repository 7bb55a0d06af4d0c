"""The receptionist console's shell: staff sign-in, the lock, and the tabs that switch between its pages.

Each page (queue, manual, stays, status, day, staff: ui/console/*.py) renders
answers and sends intents through `ui.ops.Op` on the bridge's desk thread.
The console locks after `lock_seconds` without a touch, and on lock every
page forgets what it showed (the queue, the chip photos).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QComboBox, QGridLayout, QHBoxLayout, QLineEdit, QStackedWidget, QTableWidget, \
    QVBoxLayout, QWidget

from drivers.protocols import Voice
from kiosk.app import App
from kiosk.logs import event
from kiosk.services import staff
from kiosk.services.desk import Service, parse_services
from kiosk.services.staff import LoginResult, StaffAccount
from ui.app import CheckinBridge
from ui.common import ActivityFilter, Label, Metrics, T, TButton, TLabel, restyle, retranslate_tree, stylesheet, tr
from ui.console.day import DayPage
from ui.console.manual import ManualPage
from ui.console.page import SOMETHING_WRONG, Page, Session
from ui.console.queue import QueuePage
from ui.console.staff import StaffPage
from ui.console.stays import StaysPage
from ui.console.status import Recheck, StatusPage
from ui.ops import Op

log = logging.getLogger(__name__)

# One refusal for a wrong PIN, a locked or a disabled account: saying which would help a guesser.
LOGIN_ERRORS = {"refused": tr("PIN not accepted. Too many wrong PINs lock the account for a while; "
                              "if it keeps failing, ask the administrator."),
                "unknown_staff": tr("Choose your name first.")}
DEFAULT_SERVICES = [Service("kham_benh", "Khám bệnh", "General check-up")]


class LoginPage(QWidget):
    def __init__(self) -> None:
        super().__init__()
        lay = QVBoxLayout(self)
        self.heading = TLabel(tr("Receptionist sign-in"), "heading", name="heading")
        self.staff = QComboBox()
        self.staff.setObjectName("staff_choice")
        self.pin = QLineEdit()
        self.pin.setObjectName("pin")
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin.setMaxLength(8)
        self.message = TLabel("", "error", name="message")
        lay.addWidget(self.heading)
        line = QHBoxLayout()
        line.addWidget(self.staff, 3)  # the name must show in full; a PIN is at most 8 dots
        line.addWidget(self.pin, 1)
        lay.addLayout(line)
        pad = QGridLayout()
        self.keys = []
        for i, k in enumerate(["1", "2", "3", "4", "5", "6", "7", "8", "9", "clear", "0", "ok"]):
            if k == "clear":
                b = TButton(tr("Clear"), "secondary", name="key_clear")
            elif k == "ok":
                b = TButton(tr("Sign in"), name="key_ok")
            else:
                b = TButton("", "keypad", name=f"key_{k}")
                b.set_raw(k)
                b.clicked.connect(lambda _=False, d=k: self.pin.insert(d))
            pad.addWidget(b, i // 3, i % 3)
            self.keys.append(b)
        self.clear_key = self.keys[9]
        self.ok_key = self.keys[11]
        self.clear_key.clicked.connect(self.pin.clear)
        lay.addLayout(pad, 1)
        lay.addWidget(self.message)


class ConsoleWindow(QWidget):
    PAGES = ("queue", "manual", "stays", "status", "day", "staff")
    TAB_WORDS = {"queue": tr("Queue"), "manual": tr("Manual entry"), "stays": tr("Stays"),
                 "status": tr("Status"), "day": tr("End of day"), "staff": tr("Staff")}

    def __init__(self, bridge: CheckinBridge, *, lang: str = "vi", services: list[Service] | None = None,
                 facility_code: str = "40999", facility_name: str = "", facility_address: str = "",
                 lock_seconds: float = 120, max_attempts: int = 5, lockout_minutes: int = 5,
                 diagonal_in: float = 7.0, export_dir: Path | None = None, voice: Voice | None = None,
                 refresh_seconds: float = 20, recheck: Recheck | None = None):
        super().__init__()
        self.setObjectName("console_window")
        self.bridge, self.lang, self.voice = bridge, lang, voice
        self.services = services or DEFAULT_SERVICES
        self.facility_code, self.facility_name, self.facility_address = facility_code, facility_name, facility_address
        self.max_attempts, self.lockout_minutes = max_attempts, lockout_minutes
        self.diagonal_in = diagonal_in
        self.session: Session | None = None
        self.login = LoginPage()
        self.main = QWidget()
        main_lay = QVBoxLayout(self.main)
        main_lay.setContentsMargins(0, 0, 0, 0)
        # Who is signed in shows on the bottom line; the lock button ends the tab row (height is scarce at 480 px).
        self.who = Label("small", name="who", align=Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.lock_button = TButton(tr("Lock"), "secondary", name="lock")
        tabs = QHBoxLayout()
        self.tabs: dict[str, TButton] = {}
        for p in self.PAGES:
            b = TButton(self.TAB_WORDS[p], "tab", name=f"tab_{p}")
            b.setCheckable(True)
            b.clicked.connect(lambda _=False, page=p: self.show_page(page))
            tabs.addWidget(b)
            self.tabs[p] = b
        tabs.addWidget(self.lock_button)
        main_lay.addLayout(tabs)
        self.pages = QStackedWidget()
        self.queue = QueuePage(self)
        self.manual = ManualPage(self)
        self.stays = StaysPage(self)
        self.status = StatusPage(self, recheck)
        self.day = DayPage(self, Path(export_dir) if export_dir else Path.cwd() / "exports")
        self.staff = StaffPage(self)
        for p in self.PAGES:
            self.pages.addWidget(self.page(p))
        main_lay.addWidget(self.pages, 1)
        main_lay.addWidget(self.who)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.login)
        self.stack.addWidget(self.main)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.stack)
        self._metrics = Metrics(800, 480, diagonal_in)
        self._lock_timer = QTimer(self)
        self._lock_timer.setSingleShot(True)
        self._lock_timer.setInterval(int(lock_seconds * 1000))
        self._lock_timer.timeout.connect(self.lock)
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setInterval(int(refresh_seconds * 1000))
        self._refresh_timer.timeout.connect(self.periodic)
        self._activity = ActivityFilter(self._touch)
        self.installEventFilter(self._activity)
        for w in self.findChildren(QWidget):
            w.installEventFilter(self._activity)
        self.login.ok_key.clicked.connect(self.sign_in)
        self.login.pin.returnPressed.connect(self.sign_in)
        self.lock_button.clicked.connect(self.lock)
        self.set_language(lang)
        bridge.status.connect(self.status.on_status)
        bridge.photo.connect(self.queue.on_photo)
        bridge.visits_changed.connect(self._visits_changed)
        self.resize(800, 480)
        self.load_staff()

    @classmethod
    def from_app(cls, bridge: CheckinBridge, app: App, *, lang: str | None = None) -> ConsoleWindow:
        """The console as the configuration describes it (its `ui.*` and `staff.*` keys are read here only)."""
        cfg = app.config
        return cls(bridge, lang=lang or cfg["ui.language"], services=parse_services(cfg["ui.services"]),
                   facility_code=cfg["facility.code"], facility_name=cfg["facility.name"],
                   facility_address=cfg["facility.address"], lock_seconds=cfg["ui.console_lock_seconds"],
                   max_attempts=cfg["staff.max_pin_attempts"], lockout_minutes=cfg["staff.lockout_minutes"],
                   diagonal_in=cfg["ui.screen_diagonal_inches"], export_dir=cfg.data_dir / "exports",
                   voice=app.devices.voice, recheck=app.recheck_pending)

    def page(self, name: str) -> Page:
        page: Page = getattr(self, name)
        return page

    # ----- layout and language
    def resizeEvent(self, e: QResizeEvent) -> None:
        self._metrics = Metrics(max(1, self.width()), max(1, self.height()), self.diagonal_in, portrait_boost=False)
        self.setStyleSheet(stylesheet(self._metrics))
        self.queue.side.setFixedWidth(max(80, self.width() // 7))  # the photo column only where there is room
        super().resizeEvent(e)

    @property
    def metrics(self) -> Metrics:
        return self._metrics

    def set_language(self, lang: str) -> None:
        self.lang = lang
        self.setWindowTitle(T(lang, tr("Reception console")))
        retranslate_tree(self, lang)
        for e in self.findChildren(QLineEdit):
            src = getattr(e, "placeholder_source", "")
            e.setPlaceholderText(T(lang, src) if src else "")
        for t in self.findChildren(QTableWidget):
            t.setHorizontalHeaderLabels([T(lang, h) for h in getattr(t, "header_sources", [])])
        for p in self.PAGES:
            self.page(p).retranslate()

    # ----- pages
    @property
    def current(self) -> str:
        if self.stack.currentWidget() is self.login:
            return "login"
        return self.PAGES[self.pages.currentIndex()]

    def show_page(self, page: str) -> None:
        if self.session is None:
            return
        if page == "stays" and self.current == "queue":
            r = self.queue.selected_row()
            if r is not None and not self.stays.queue_number.text():
                self.stays.queue_number.setText(str(r.queue_number))  # the stay starts from that visit
        if page == "staff" and not self.session.is_admin:
            page = "queue"
        self.pages.setCurrentIndex(self.PAGES.index(page))
        for p, b in self.tabs.items():
            b.setChecked(p == page)
        self.page(page).refresh()

    def periodic(self) -> None:
        """The 20 s refresh: the Stays tab's alarm from any page, and the page shown if it lists live data."""
        if self.session is None:
            return
        self.check_stay_alarms()
        page = self.page(self.current)
        if page.periodic:
            page.refresh()

    def _visits_changed(self) -> None:
        if self.session is not None and self.current == "queue":
            self.queue.refresh()

    def check_stay_alarms(self) -> None:
        """The Stays tab turns red with a count when a deadline is within the hour."""
        def show(count: int) -> None:
            if self.session is None:
                return
            tab = self.tabs["stays"]
            if count:
                tab.set(tr("Stays ({count}!)"), self.lang, count=count)
            else:
                tab.set(self.TAB_WORDS["stays"], self.lang)
            tab.setProperty("role", "danger" if count else "tab")
            restyle(tab)
        self.stays.count_alarms(show)

    # ----- sign-in and lock
    def _touch(self) -> None:
        if self.session is not None:
            self._lock_timer.start()

    def load_staff(self) -> None:
        def done(accounts: list[StaffAccount]) -> None:
            self.login.staff.clear()
            for acct in accounts:
                self.login.staff.addItem(acct.full_name, acct.id)
            if not accounts:
                self.login.message.set(tr("No staff accounts yet: create one with 'kiosk staff add --admin'."),
                                       self.lang)
        Op(lambda db: staff.list_staff(db, include_disabled=False)).success(done).failure(
            lambda e: done([])).run(self.bridge)

    def sign_in(self) -> None:
        staff_id = self.login.staff.currentData()
        pin = self.login.pin.text()
        self.login.pin.clear()
        if staff_id is None:
            self.login.message.set(LOGIN_ERRORS["unknown_staff"], self.lang)
            return
        max_attempts, lockout = self.max_attempts, timedelta(minutes=self.lockout_minutes)

        Op(lambda db: staff.login(db, staff_id, pin, max_attempts=max_attempts, lockout=lockout)) \
            .success(self._signed_in).failure(lambda e: self.login.message.set(SOMETHING_WRONG, self.lang)) \
            .run(self.bridge)

    def _signed_in(self, result: LoginResult) -> None:
        a = result.account
        if not result.ok or a is None:
            self.login.message.set(LOGIN_ERRORS["refused"], self.lang)
            return
        self.session = Session(a.id, a.full_name, a.is_admin)
        self.who.setText(f"{a.full_name} · {a.masked_id}")
        self.tabs["staff"].setVisible(a.is_admin)
        self.login.message.set("", self.lang)
        self.stack.setCurrentWidget(self.main)
        self._lock_timer.start()
        self._refresh_timer.start()
        self.show_page("queue")
        self.check_stay_alarms()

    @Slot()
    def lock(self) -> None:
        """Back to the sign-in screen, forgetting everything shown."""
        if self.session is not None:
            event(log, "console_locked", staff_id=self.session.staff_id)
        self.session = None
        self._lock_timer.stop()
        self._refresh_timer.stop()
        for p in self.PAGES:
            self.page(p).forget()
        for t in self.findChildren(QTableWidget):
            t.setRowCount(0)
        for e in self.findChildren(QLineEdit):
            e.clear()
        self.who.setText("")
        self.stack.setCurrentWidget(self.login)
        self.load_staff()
