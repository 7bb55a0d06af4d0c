"""The receptionist console: staff login, today's queue, manual entry, stays, status, end of day, staff.

Every query and change runs on the bridge's desk thread (`bridge.submit`);
this module only renders answers and sends intents. The console locks after
`lock_seconds` without a touch, and on lock forgets what it showed (the
queue, the chip photo). Chip photos live only in memory, only here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Slot
from PySide6.QtGui import QIntValidator, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QComboBox, QGridLayout, QHBoxLayout, QHeaderView,
                               QLineEdit, QSizePolicy, QStackedWidget, QTableWidget, QTableWidgetItem, QVBoxLayout,
                               QWidget)

from drivers.scan import DeviceStatus
from kiosk.clock import VN_TZ, vn_date
from kiosk.services.desk import Service
from kiosk.logs import event
from ui.common import ActivityFilter, Label, Metrics, T, TButton, TLabel, retranslate_tree, stylesheet, tr

log = logging.getLogger(__name__)

STATE_WORDS = {"waiting": tr("Waiting"), "being_seen": tr("Being seen"), "done": tr("Done"), "left": tr("Left"),
               "cancelled": tr("Cancelled")}
BHYT_WORDS = {"covered": tr("Covered"), "not_covered": tr("Not covered"), "unverified": tr("Not verified")}
# One refusal for a wrong PIN, a locked or a disabled account: saying which would help a guesser.
LOGIN_ERRORS = {"refused": tr("PIN not accepted. Too many wrong PINs lock the account for a while; "
                              "if it keeps failing, ask the administrator."),
                "unknown_staff": tr("Choose your name first.")}
DESK_ERRORS = {"bad_transition": tr("That change is not possible for this visit."),
               "not_correctable": tr("That field cannot be corrected here."),
               "name_empty": tr("The name cannot be empty."), "bad_sex": tr("Enter male or female."),
               "unknown_visit": tr("Choose a visit first."), "no_service": tr("Choose a service."),
               "not_admin": tr("Only an administrator can do this."), "pin_form": tr("A PIN is 4 to 8 digits."),
               "pin_admin_short": tr("An administrator's PIN is at least 6 digits."),
               "pin_trivial": tr("That PIN is too easy to guess (repeated digits or a run). Choose another."),
               "pin_birth_date": tr("A PIN may not be a birth date. Choose another."),
               "pin_common": tr("That PIN is one of the most common ones. Choose another."),
               "id_form": tr("An ID number is 12 digits."), "id_taken": tr("This ID number already has an account."),
               "self_disable": tr("You cannot disable your own account."),
               "bad_date": tr("Enter the date as yyyy-mm-dd.")}
FIELD_ERRORS = {"id_number": tr("The ID number must be 12 digits."),
                "card_number": tr("The health-insurance number must be 15 characters or 10 digits."),
                "passport_number": tr("The passport number must be 6 to 9 letters or digits."),
                "nationality": tr("The nationality must be a 3-letter code, e.g. FRA."),
                "full_name": tr("Enter the name as on the card (letters only)."),
                "date_of_birth": tr("Enter the date of birth as dd/mm/yyyy."), "sex": tr("Choose the sex.")}


def _local(iso: str | None, fmt: str = "%H:%M") -> str:
    if not iso:
        return "—"
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(VN_TZ).strftime(fmt)
    except ValueError:
        return iso


def _row(*widgets, stretch_last: bool = False) -> QHBoxLayout:
    lay = QHBoxLayout()
    for w in widgets:
        lay.addWidget(w)
    return lay


def _edit(placeholder_source: str = "", name: str = "") -> QLineEdit:
    e = QLineEdit()
    e.placeholder_source = placeholder_source
    if name:
        e.setObjectName(name)
    return e



# visit flags that question who the patient is, and what the console says of each
IDENTITY_FLAG_WORDS = (
    ("identity_mismatch", tr("Scanned again with another name or birth date: check the ID card")),
    ("clone_suspected", tr("The chip failed its clone check: check the ID card")),
    ("chip_failed", tr("The chip data did not verify: check the ID card")),
)


def _table(headers: list[str], name: str) -> QTableWidget:
    t = QTableWidget(0, len(headers))
    t.setObjectName(name)
    t.header_sources = headers
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.verticalHeader().setVisible(False)
    t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    t.horizontalHeader().setMinimumSectionSize(24)
    t.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
    return t


@dataclass
class Session:
    staff_id: int
    full_name: str
    is_admin: bool


# ------------------------------------------------------------------ login
class LoginPage(QWidget):
    def __init__(self):
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
        row = QHBoxLayout()
        row.addWidget(self.staff, 3)  # the name must show in full; a PIN is at most 8 dots
        row.addWidget(self.pin, 1)
        lay.addLayout(row)
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


# ------------------------------------------------------------------ queue
class QueuePage(QWidget):
    def __init__(self):
        super().__init__()
        lay = QVBoxLayout(self)
        self.search = _edit(tr("Search by name, ID or number"), "search")
        self.search_button = TButton(tr("Search"), "secondary", name="search_button")
        self.search_button.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Preferred)
        self.search_row = QWidget()
        self.search_row.setLayout(_row(self.search, self.search_button))
        self.search_row.layout().setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.search_row)
        mid = QHBoxLayout()
        self.table = _table([tr("No."), tr("State"), tr("Name"), tr("ID"), tr("Services"), tr("Insurance")], "queue")
        header = self.table.horizontalHeader()
        for col in (0, 1, 3):  # number, state and masked ID take what they need; names and services the rest
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        mid.addWidget(self.table, 1)
        side = QVBoxLayout()
        self.photo = Label("small", name="photo")
        self.photo.setMinimumSize(60, 60)
        self.photo_caption = TLabel(tr("Face check"), "small", name="photo_caption")
        side.addWidget(self.photo, 1)
        side.addWidget(self.photo_caption)
        self.side = QWidget()
        self.side.setLayout(side)
        mid.addWidget(self.side)
        lay.addLayout(mid, 1)
        self.call_next = TButton(tr("Call next"), name="call_next")
        self.done = TButton(tr("Done"), name="mark_done")
        self.left = TButton(tr("Left"), "secondary", name="mark_left")
        self.cancel = TButton(tr("Cancel visit"), "danger", name="cancel_visit")
        self.waiting = TButton(tr("Back to waiting"), "secondary", name="mark_waiting")
        self.correct = TButton(tr("Correct"), "secondary", name="correct")
        self.add_service = TButton(tr("Add service"), "secondary", name="add_service")
        self.reprint = TButton(tr("Reprint"), "secondary", name="reprint")
        self.buttons = QGridLayout()
        for i, b in enumerate((self.call_next, self.done, self.left, self.cancel,
                               self.waiting, self.correct, self.add_service, self.reprint)):
            self.buttons.addWidget(b, i // 4, i % 4)
        lay.addLayout(self.buttons)
        # The edit row: a correction (field + value) or a service to add.
        self.edit_choice = QComboBox()
        self.edit_choice.setObjectName("edit_choice")
        self.edit_value = _edit("", "edit_value")
        self.edit_apply = TButton(tr("Save"), name="edit_apply")
        self.edit_apply.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Preferred)
        self.edit_close = TButton(tr("Close"), "secondary", name="edit_close")
        self.edit_close.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Preferred)
        self.edit_row = QWidget()
        self.edit_row.setLayout(_row(self.edit_choice, self.edit_value, self.edit_apply, self.edit_close))
        self.edit_row.layout().setContentsMargins(0, 0, 0, 0)
        self.edit_row.hide()
        self.edit_mode = ""
        lay.insertWidget(1, self.edit_row)  # in the search row's place while editing
        self.edit_close.clicked.connect(self.close_edit)
        self.message = TLabel("", "small", name="message")
        lay.addWidget(self.message)

    def close_edit(self) -> None:
        self.edit_row.hide()
        self.search_row.show()


# ------------------------------------------------------------------ manual entry
class ManualPage(QWidget):
    KINDS = (("id_number", tr("ID number (CCCD)")), ("bhyt", tr("Health-insurance number")),
             ("passport", tr("Passport (foreigner)")))

    def __init__(self):
        super().__init__()
        lay = QVBoxLayout(self)
        self.heading = TLabel(tr("Manual check-in (card could not be read)"), "heading", name="heading")
        lay.addWidget(self.heading)
        grid = QGridLayout()
        self.kind = QComboBox()
        self.kind.setObjectName("kind")
        self.number = _edit(tr("Number"), "number")
        self.name = _edit(tr("Full name"), "full_name")
        self.dob = _edit(tr("Date of birth dd/mm/yyyy"), "date_of_birth")
        self.sex = QComboBox()
        self.sex.setObjectName("sex")
        self.nationality = _edit(tr("Nationality (e.g. FRA)"), "nationality")
        self.service = QComboBox()
        self.service.setObjectName("service")
        for i, w in enumerate((self.kind, self.number, self.name, self.dob, self.sex, self.nationality)):
            grid.addWidget(w, i // 2, i % 2)
        lay.addLayout(grid)
        self.submit = TButton(tr("Check in and print ticket"), name="submit")
        row = QHBoxLayout()
        row.addWidget(self.service, 1)
        row.addWidget(self.submit, 1)
        lay.addLayout(row)
        self.message = TLabel("", "heading", name="message")
        lay.addWidget(self.message)
        lay.addStretch(1)


# ------------------------------------------------------------------ stays
class StaysPage(QWidget):
    def __init__(self):
        super().__init__()
        lay = QVBoxLayout(self)
        self.alarm = TLabel("", "error", name="alarm")
        lay.addWidget(self.alarm)
        self.table = _table([tr("Visit"), tr("Name"), tr("ID"), tr("Deadline"), tr("Time left"), tr("State")], "stays")
        lay.addWidget(self.table, 1)
        self.queue_number = _edit(tr("Queue no."), "stay_queue_number")
        self.reason = _edit(tr("Reason for the stay"), "stay_reason")
        self.stay_from = _edit(tr("From dd/mm/yyyy hh:mm (empty: now)"), "stay_from")
        self.stay_until = _edit(tr("Until dd/mm/yyyy hh:mm (optional)"), "stay_until")
        self.queue_number.setValidator(QIntValidator(1, 9999, self.queue_number))
        self.passport = _edit(tr("Passport no. (foreigner)"), "stay_passport")
        self.start = TButton(tr("Start stay"), name="start_stay")
        grid = QGridLayout()
        for i, w in enumerate((self.queue_number, self.reason, self.stay_from, self.stay_until, self.passport,
                               self.start)):
            grid.addWidget(w, i // 2, i % 2)
        lay.addLayout(grid)
        self.receipt = _edit(tr("Receipt number of a hand submission"), "receipt")
        self.record = TButton(tr("Record receipt"), "secondary", name="record_receipt")
        lay.addLayout(_row(self.receipt, self.record))
        self.message = TLabel("", "small", name="message")
        lay.addWidget(self.message)


# ------------------------------------------------------------------ status
class StatusPage(QWidget):
    DEVICES = (("reader", tr("Chip card reader")), ("scanner", tr("QR scanner")), ("camera", tr("Camera")),
               ("printer", tr("Ticket printer")))

    def __init__(self):
        super().__init__()
        lay = QVBoxLayout(self)
        left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        self.sync = TLabel("", "body", name="sync", align=left)
        self.roster = TLabel("", "body", name="roster", align=left)
        self.clock = TLabel("", "body", name="clock", align=left)
        # What the receptionist must act on (sync stopped, records refused, scanner in the wrong mode).
        self.problem = TLabel("", "body", name="problem", align=left)
        for w in (self.sync, self.roster, self.clock, self.problem):
            lay.addWidget(w)
        grid = QGridLayout()
        self.device_labels: dict[str, tuple[TLabel, TLabel]] = {}
        for i, (key, words) in enumerate(self.DEVICES):
            name = TLabel(words, "body", name=f"device_{key}", align=left)
            state = TLabel(tr("Unknown"), "body", name=f"device_{key}_state", align=left)
            grid.addWidget(name, i // 2, (i % 2) * 2)
            grid.addWidget(state, i // 2, (i % 2) * 2 + 1)
            self.device_labels[key] = (name, state)
        lay.addLayout(grid)
        self.recheck = TButton(tr("Re-check pending insurance online"), name="recheck")
        self.refresh = TButton(tr("Refresh"), "secondary", name="refresh_status")
        lay.addLayout(_row(self.recheck, self.refresh))
        self.message = TLabel("", "small", name="message")
        lay.addWidget(self.message)
        lay.addStretch(1)


# ------------------------------------------------------------------ end of day
class DayPage(QWidget):
    def __init__(self):
        super().__init__()
        lay = QVBoxLayout(self)
        left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop
        self.heading = TLabel(tr("End of day"), "heading", name="heading")
        self.total = TLabel("", "body", name="total", align=left)
        self.by_service = Label("body", name="by_service", align=left)
        self.by_bhyt = Label("body", name="by_bhyt", align=left)
        self.export = TButton(tr("Export today's list (CSV)"), name="export")
        self.message = TLabel("", "small", name="message")
        lay.addWidget(self.heading)
        lay.addWidget(self.total)
        lay.addLayout(_row(self.by_service, self.by_bhyt))
        lay.addStretch(1)
        lay.addWidget(self.export)
        lay.addWidget(self.message)


# ------------------------------------------------------------------ staff (administrator)
class StaffPage(QWidget):
    def __init__(self):
        super().__init__()
        lay = QVBoxLayout(self)
        self.table = _table([tr("Name"), tr("ID"), tr("Role"), tr("State")], "staff")
        lay.addWidget(self.table, 1)
        self.name = _edit(tr("Full name"), "staff_name")
        self.id_number = _edit(tr("ID number (12 digits)"), "staff_id_number")
        self.pin = _edit(tr("PIN (4-8 digits)"), "staff_pin")
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.admin = QCheckBox()
        self.admin.setObjectName("staff_admin")
        self.admin.source = tr("Administrator")
        self.add = TButton(tr("Add account"), name="add_staff")
        grid = QGridLayout()
        for i, w in enumerate((self.name, self.id_number, self.pin, self.admin)):
            grid.addWidget(w, i // 2, i % 2)
        lay.addLayout(grid)
        self.disable = TButton(tr("Disable"), "danger", name="disable_staff")
        self.enable = TButton(tr("Enable"), "secondary", name="enable_staff")
        self.reset = TButton(tr("Reset PIN"), "secondary", name="reset_pin")
        lay.addLayout(_row(self.add, self.disable, self.enable, self.reset))
        self.message = TLabel("", "small", name="message")
        lay.addWidget(self.message)


# ------------------------------------------------------------------ the window
class ConsoleWindow(QWidget):
    PAGES = ("queue", "manual", "stays", "status", "day", "staff")
    TAB_WORDS = {"queue": tr("Queue"), "manual": tr("Manual entry"), "stays": tr("Stays"),
                 "status": tr("Status"), "day": tr("End of day"), "staff": tr("Staff")}

    def __init__(self, bridge, *, lang: str = "vi", services: list[Service] | None = None,
                 facility_code: str = "40999", facility_name: str = "", facility_address: str = "",
                 lock_seconds: float = 120, max_attempts: int = 5, lockout_minutes: int = 5,
                 diagonal_in: float = 7.0, export_dir: Path | None = None, voice=None,
                 refresh_seconds: float = 20, recheck=None):
        super().__init__()
        self.setObjectName("console_window")
        self.bridge, self.lang, self.voice = bridge, lang, voice
        self.recheck_fn = recheck  # (service, staff_id) -> visits re-checked, or None when no lookup is set up
        self.services = services or [Service("kham_benh", "Khám bệnh", "General check-up")]
        self.facility_code, self.facility_name, self.facility_address = facility_code, facility_name, facility_address
        self.max_attempts, self.lockout_minutes = max_attempts, lockout_minutes
        self.diagonal_in = diagonal_in
        self.export_dir = Path(export_dir) if export_dir else Path.cwd() / "exports"
        self.session: Session | None = None
        self.rows = []  # QueueRow list shown
        self.photos: dict[int, bytes] = {}  # visit_id → chip face image, memory only
        self.devices: dict[str, DeviceStatus] = {}
        self.stays = []
        self.staff_rows = []
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
        self.queue, self.manual, self.stays_page = QueuePage(), ManualPage(), StaysPage()
        self.status_page, self.day, self.staff = StatusPage(), DayPage(), StaffPage()
        for w in (self.queue, self.manual, self.stays_page, self.status_page, self.day, self.staff):
            self.pages.addWidget(w)
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
        self._refresh_timer.timeout.connect(self._periodic)
        self._activity = ActivityFilter(self._touch)
        self.installEventFilter(self._activity)
        for w in self.findChildren(QWidget):
            w.installEventFilter(self._activity)
        self._wire()
        self._fill_choices()
        self.set_language(lang)
        bridge.status.connect(self.on_status)
        bridge.photo.connect(self.on_photo)
        bridge.visits_changed.connect(self._visits_changed)
        self.resize(800, 480)
        self.load_staff()

    # ----- plumbing
    def _wire(self) -> None:
        L, Q, M, S, D, A = self.login, self.queue, self.manual, self.stays_page, self.day, self.staff
        L.ok_key.clicked.connect(self.sign_in)
        L.pin.returnPressed.connect(self.sign_in)
        self.lock_button.clicked.connect(self.lock)
        Q.search_button.clicked.connect(self.refresh_queue)
        Q.search.returnPressed.connect(self.refresh_queue)
        Q.table.itemSelectionChanged.connect(self._selection_changed)
        Q.call_next.clicked.connect(self.call_next)
        Q.done.clicked.connect(lambda: self.set_status("done"))
        Q.left.clicked.connect(lambda: self.set_status("left"))
        Q.cancel.clicked.connect(lambda: self.set_status("cancelled"))
        Q.waiting.clicked.connect(lambda: self.set_status("waiting"))
        Q.correct.clicked.connect(lambda: self._open_edit("correct"))
        Q.add_service.clicked.connect(lambda: self._open_edit("service"))
        Q.edit_apply.clicked.connect(self.apply_edit)
        Q.reprint.clicked.connect(self.reprint)
        M.submit.clicked.connect(self.manual_checkin)
        S.start.clicked.connect(self.start_stay)
        S.record.clicked.connect(self.record_receipt)
        self.status_page.refresh.clicked.connect(self.refresh_status)
        self.status_page.recheck.clicked.connect(self.recheck)
        D.export.clicked.connect(self.export_day)
        A.add.clicked.connect(self.add_staff)
        A.disable.clicked.connect(lambda: self.staff_action("disable"))
        A.enable.clicked.connect(lambda: self.staff_action("enable"))
        A.reset.clicked.connect(lambda: self.staff_action("reset"))

    def _fill_choices(self) -> None:
        lang = self.lang
        M = self.manual
        M.kind.clear()
        for code, words in ManualPage.KINDS:
            M.kind.addItem(T(lang, words), code)
        M.sex.clear()
        for code, words in (("", tr("Sex")), ("male", tr("Male")), ("female", tr("Female"))):
            M.sex.addItem(T(lang, words), code)
        M.service.clear()
        for s in self.services:
            M.service.addItem(s.label(lang), s.code)

    def resizeEvent(self, e):
        self._metrics = Metrics(max(1, self.width()), max(1, self.height()), self.diagonal_in, portrait_boost=False)
        self.setStyleSheet(stylesheet(self._metrics))
        # The photo column only where there is room for it.
        self.queue.side.setFixedWidth(max(80, self.width() // 7))
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
            t.setHorizontalHeaderLabels([T(lang, h) for h in t.header_sources])
        self.staff.admin.setText(T(lang, self.staff.admin.source))
        self._fill_choices()
        self._render_queue()

    def _touch(self) -> None:
        if self.session is not None:
            self._lock_timer.start()

    @property
    def current(self) -> str:
        if self.stack.currentWidget() is self.login:
            return "login"
        return self.PAGES[self.pages.currentIndex()]

    def show_page(self, page: str) -> None:
        if self.session is None:
            return
        if page == "stays" and self.current == "queue":
            vid = self.selected_visit()
            row = next((r for r in self.rows if r.visit_id == vid), None)
            if row is not None and not self.stays_page.queue_number.text():
                self.stays_page.queue_number.setText(str(row.queue_number))  # the stay starts from that visit
        if page == "staff" and not self.session.is_admin:
            page = "queue"
        self.pages.setCurrentIndex(self.PAGES.index(page))
        for p, b in self.tabs.items():
            b.setChecked(p == page)
        {"queue": self.refresh_queue, "stays": self.refresh_stays, "status": self.refresh_status,
         "day": self.refresh_day, "staff": self.refresh_staff, "manual": lambda: None}[page]()

    def _say(self, label: TLabel, source: str, params: dict | None = None, **kw) -> None:
        label.set(source, self.lang, **{**(params or {}), **kw})

    def _error_words(self, error) -> tuple[str, dict]:
        reason = getattr(error, "reason", "")
        if reason in DESK_ERRORS:
            return DESK_ERRORS[reason], {}
        field = getattr(error, "field", None)
        if field in FIELD_ERRORS:
            return FIELD_ERRORS[field], {}
        if type(error).__name__ == "UsageError":
            return tr("Not possible: {detail}"), {"detail": str(error)}
        return tr("Something went wrong; the details are in the log."), {}

    # ----- login / lock
    def load_staff(self) -> None:
        def job(svc):
            from kiosk.services import staff
            return staff.list_staff(svc.db.conn, include_disabled=False)

        def done(result, error):
            self.login.staff.clear()
            for acct in result or []:
                self.login.staff.addItem(acct.full_name, acct.id)
            if not result:
                self._say(self.login.message, tr("No staff accounts yet: create one with 'kiosk staff add --admin'."))
        self.bridge.submit(job, done)

    def sign_in(self) -> None:
        staff_id = self.login.staff.currentData()
        pin = self.login.pin.text()
        self.login.pin.clear()
        if staff_id is None:
            self._say(self.login.message, LOGIN_ERRORS["unknown_staff"])
            return
        max_attempts, lockout = self.max_attempts, timedelta(minutes=self.lockout_minutes)

        def job(svc):
            from kiosk import store
            from kiosk.services import staff
            with store.transaction(svc.db) as conn:
                return staff.login(conn, staff_id, pin, svc.clock.now(), max_attempts=max_attempts, lockout=lockout)

        def done(result, error):
            if error is not None or result is None:
                self._say(self.login.message, tr("Something went wrong; the details are in the log."))
                return
            if not result.ok:
                self._say(self.login.message, LOGIN_ERRORS["refused"])
                return
            a = result.account
            self.session = Session(a.id, a.full_name, a.is_admin)
            self.who.setText(f"{a.full_name} · {a.masked_id}")
            self.tabs["staff"].setVisible(a.is_admin)
            self._say(self.login.message, "")
            self.stack.setCurrentWidget(self.main)
            self._lock_timer.start()
            self._refresh_timer.start()
            self.show_page("queue")
            self.check_stay_alarms()
        self.bridge.submit(job, done)

    @Slot()
    def lock(self) -> None:
        """Back to the sign-in screen, forgetting everything shown."""
        if self.session is not None:
            event(log, "console_locked", staff_id=self.session.staff_id)
        self.session = None
        self._lock_timer.stop()
        self._refresh_timer.stop()
        self.rows, self.stays, self.staff_rows = [], [], []
        for t in self.findChildren(QTableWidget):
            t.setRowCount(0)
        for e in self.findChildren(QLineEdit):
            e.clear()
        self.queue.photo.clear()
        self.who.setText("")
        self.stack.setCurrentWidget(self.login)
        self.load_staff()

    def check_stay_alarms(self) -> None:
        """Whatever page is open, the Stays tab turns red with a count when a deadline is within the hour."""
        def job(svc):
            from kiosk.services import stay_notification as sn
            rows = sn.pending_with_time_left(svc.db.conn, svc.clock.now(), svc.clock.synchronised())
            return sum(1 for r in rows if r.get("alarm"))

        def done(count, error):
            if error is not None or self.session is None:
                return
            tab = self.tabs["stays"]
            if count:
                tab.set(tr("Stays ({count}!)"), self.lang, count=count)
            else:
                tab.set(self.TAB_WORDS["stays"], self.lang)
            tab.setProperty("role", "danger" if count else "tab")
            tab.style().unpolish(tab)
            tab.style().polish(tab)
        self.bridge.submit(job, done)

    def _periodic(self) -> None:
        if self.session is None:
            return
        self.check_stay_alarms()
        page = self.current
        if page == "queue":
            self.refresh_queue()
        elif page == "stays":
            self.refresh_stays()
        elif page == "status":
            self.refresh_status()

    def _visits_changed(self) -> None:
        if self.session is not None and self.current == "queue":
            self.refresh_queue()

    # ----- queue
    def _today(self, svc) -> str:
        return vn_date(svc.clock.now()).isoformat()

    def refresh_queue(self) -> None:
        if self.session is None:
            return
        text = self.queue.search.text()

        def job(svc):
            from kiosk.services import desk
            return desk.queue_for(svc.db.conn, self._today(svc), text)
        self.bridge.submit(job, self._queue_loaded)

    def _queue_loaded(self, rows, error) -> None:
        if self.session is None:
            return
        if error is not None:
            self._say(self.queue.message, *self._error_words(error))
            return
        selected = self.selected_visit()
        self.rows = rows
        self._render_queue(selected)

    def _render_queue(self, keep: int | None = None) -> None:
        from kiosk.services.desk import bhyt_answer
        t = self.queue.table
        t.setRowCount(len(self.rows))
        labels = {s.code: s.label(self.lang) for s in self.services}
        for i, r in enumerate(self.rows):
            cells = [str(r.queue_number), T(self.lang, STATE_WORDS[r.status]), r.full_name,
                     r.masked_id or "—", ", ".join(labels.get(s, s) for s in r.services),
                     T(self.lang, BHYT_WORDS[bhyt_answer(r.result_code, r.eligibility_source)])
                     + (f" {r.benefit_percent}%" if r.benefit_percent and r.result_code in
                        {"000", "001", "002", "003", "004"} else "")]
            if "manual_entry" in r.flags:
                cells[3] += " ✎"
            # identity flags: the receptionist checks the person before the visit goes on
            warn = [T(self.lang, words) for flag, words in IDENTITY_FLAG_WORDS if flag in r.flags]
            if warn:
                cells[2] = "⚠ " + cells[2]
            for j, c in enumerate(cells):
                item = QTableWidgetItem(c)
                if warn and j == 2:
                    item.setToolTip("\n".join(warn))
                t.setItem(i, j, item)
            if keep is not None and r.visit_id == keep:
                t.selectRow(i)

    def selected_visit(self) -> int | None:
        rows = self.queue.table.selectionModel().selectedRows() if self.queue.table.selectionModel() else []
        if not rows or rows[0].row() >= len(self.rows):
            return None
        return self.rows[rows[0].row()].visit_id

    def _selection_changed(self) -> None:
        vid = self.selected_visit()
        photo = self.photos.get(vid) if vid is not None else None
        self.queue.photo.clear()
        if photo and self.session is not None:
            pm = QPixmap()
            if not pm.loadFromData(photo):  # e.g. JPEG 2000, which this Qt build may not decode
                self.queue.photo.setText(T(self.lang, tr("The chip photo cannot be shown here")))
            else:
                self.queue.photo.setPixmap(pm.scaled(self.queue.side.width(), self.queue.side.width() * 4 // 3,
                                                     Qt.AspectRatioMode.KeepAspectRatio))
                staff_id = self.session.staff_id

                def job(svc):
                    from kiosk.services import desk
                    desk.record_view(svc.db.conn, vid, staff_id, svc.clock.now(), "chip photo face check")
                self.bridge.submit(job, lambda *_: None)

    def _desk_change(self, fn, ok_source: str, **ok_params) -> None:
        staff_id = self.session.staff_id

        def job(svc):
            from kiosk import store
            with store.transaction(svc.db) as conn:
                return fn(conn, staff_id, svc.clock.now(), svc)

        def done(result, error):
            if error is not None:
                self._say(self.queue.message, *self._error_words(error))
            else:
                params = dict(ok_params)
                if result is not None and hasattr(result, "queue_number"):
                    params.setdefault("number", result.queue_number)
                self._say(self.queue.message, ok_source if result is not None else tr("Nobody is waiting."),
                          **params)
                if result is not None and ok_source == STATUS_DONE_WORDS["being_seen_call"] and self.voice:
                    self.voice.call(result.queue_number)
            self.refresh_queue()
        self.bridge.submit(job, done)

    def call_next(self) -> None:
        from kiosk.services import desk
        self._desk_change(lambda conn, sid, now, svc: desk.call_next(conn, self._today(svc), sid, now),
                          STATUS_DONE_WORDS["being_seen_call"])

    def set_status(self, status: str) -> None:
        from kiosk.services import desk
        vid = self.selected_visit()
        if vid is None:
            self._say(self.queue.message, DESK_ERRORS["unknown_visit"])
            return
        self._desk_change(lambda conn, sid, now, svc: desk.set_status(conn, vid, status, sid, now),
                          STATUS_DONE_WORDS[status])

    def _open_edit(self, mode: str) -> None:
        Q = self.queue
        if self.selected_visit() is None:
            self._say(Q.message, DESK_ERRORS["unknown_visit"])
            return
        Q.edit_mode = mode
        Q.edit_choice.clear()
        if mode == "correct":
            for code, words in (("full_name", tr("Name")), ("date_of_birth", tr("Date of birth (yyyy-mm-dd)")),
                                ("sex", tr("Sex (male/female)"))):
                Q.edit_choice.addItem(T(self.lang, words), code)
            Q.edit_value.setVisible(True)
        else:
            for s in self.services:
                Q.edit_choice.addItem(s.label(self.lang), s.code)
            Q.edit_value.setVisible(False)
        Q.edit_value.clear()
        Q.search_row.hide()
        Q.edit_row.show()

    def apply_edit(self) -> None:
        from kiosk.services import desk
        Q = self.queue
        vid, choice, value = self.selected_visit(), Q.edit_choice.currentData(), Q.edit_value.text()
        if vid is None:
            self._say(Q.message, DESK_ERRORS["unknown_visit"])
            return
        if Q.edit_mode == "correct":
            self._desk_change(lambda conn, sid, now, svc: desk.correct(conn, vid, choice, value, sid, now),
                              tr("Corrected number {number}; the change is recorded with your name."))
        else:
            self._desk_change(lambda conn, sid, now, svc: desk.add_service(conn, vid, choice, sid, now),
                              tr("Service added to number {number}."))
        Q.close_edit()

    def reprint(self) -> None:
        vid = self.selected_visit()
        if vid is None:
            self._say(self.queue.message, DESK_ERRORS["unknown_visit"])
            return
        row = next(r for r in self.rows if r.visit_id == vid)
        service = next((s for s in self.services if row.services and s.code == row.services[0]), None)
        checkin = _TicketVisit(row.visit_id, row.queue_number, row.created_at)

        def done(result, error):
            if error is not None:
                self._say(self.queue.message, *self._error_words(error))
            elif result[2]:
                self._say(self.queue.message, tr("The printer is not working ({reason})."), reason=result[2])
            else:
                self._say(self.queue.message, tr("Ticket {number} printed again."), number=row.queue_number)
        self.bridge.issue_ticket(checkin, service, self.lang, self.facility_name, done,
                                 staff_id=self.session.staff_id, reprint=True)

    @Slot(int, bytes)
    def on_photo(self, visit_id: int, photo: bytes) -> None:
        self.photos[visit_id] = photo
        while len(self.photos) > 20:  # only the last few patients' faces, never on disk
            self.photos.pop(next(iter(self.photos)))

    # ----- manual entry
    def manual_checkin(self) -> None:
        if self.session is None:
            return
        M = self.manual
        args = dict(kind=M.kind.currentData(), number=M.number.text(), full_name=M.name.text(),
                    date_of_birth=M.dob.text(), sex=M.sex.currentData() or "", nationality=M.nationality.text())
        service = next((s for s in self.services if s.code == M.service.currentData()), self.services[0])
        staff_id = self.session.staff_id

        def job(svc):
            from kiosk import store
            from kiosk.services import desk
            from kiosk.domain import ScanEvent
            from kiosk.services.manual_entry import manual_document
            doc = manual_document(**args)
            outcome = svc.handle(ScanEvent(b"", "manual", document=doc))
            if outcome.ok:
                with store.transaction(svc.db) as conn:
                    desk._change(conn, outcome.visit_id, staff_id, "manual_entry", svc.clock.now(), "kind", None,
                                 args["kind"])
            return outcome

        def done(outcome, error):
            if error is not None:
                self._say(M.message, *self._error_words(error))
                return
            if not outcome.ok:
                self._say(M.message, tr("Not saved: {detail}"), detail=outcome.reason)
                return
            for e in (M.number, M.name, M.dob, M.nationality):
                e.clear()
            self._say(M.message, tr("Number {number} for {name}."), number=outcome.queue_number,
                      name=outcome.patient.get("full_name", ""))
            self.bridge.issue_ticket(outcome, service, self.lang, self.facility_name, lambda *_: None,
                                     staff_id=staff_id)
        self.bridge.submit(job, done)

    # ----- stays
    def refresh_stays(self) -> None:
        def job(svc):
            from kiosk.services import stay_notification as sn
            return sn.pending_with_time_left(svc.db.conn, svc.clock.now(), svc.clock.synchronised())

        def done(rows, error):
            if self.session is None:
                return
            if error is not None:
                self._say(self.stays_page.message, *self._error_words(error))
                return
            self.stays = rows
            t = self.stays_page.table
            t.setRowCount(len(rows))
            alarms = 0
            for i, n in enumerate(rows):
                left = n.get("time_left_seconds")
                if left is None:
                    left_text = "—"
                elif left < 0:
                    left_text = T(self.lang, tr("Overdue"))
                else:
                    left_text = f"{left // 3600}h{(left % 3600) // 60:02d}"
                alarms += bool(n.get("alarm"))
                cells = [str(n["visit_id"]), n["full_name"], n["masked_id"],
                         _local(n["deadline_at"], "%H:%M %d/%m"), left_text,
                         T(self.lang, STAY_STATES.get(n["state"], tr("Unknown")))]
                for j, c in enumerate(cells):
                    t.setItem(i, j, QTableWidgetItem(c))
            if alarms:
                self._say(self.stays_page.alarm, tr("{count} stay notification(s) due within an hour!"),
                          count=alarms)
            else:
                self._say(self.stays_page.alarm, "")
        self.bridge.submit(job, done)

    def start_stay(self) -> None:
        S = self.stays_page
        number, reason = S.queue_number.text().strip(), S.reason.text()
        frm, until, passport = S.stay_from.text().strip(), S.stay_until.text().strip(), S.passport.text().strip()
        code, address = self.facility_code, self.facility_address

        def parse(text):
            return datetime.strptime(text, "%d/%m/%Y %H:%M").replace(tzinfo=VN_TZ) if text else None

        def job(svc):
            from kiosk.services import stay_notification as sn
            from kiosk.errors import UsageError
            if not (number.isascii() and number.isdigit()):
                raise UsageError("queue number")
            try:
                begin, end = parse(frm), parse(until)
            except ValueError:
                raise UsageError("dd/mm/yyyy hh:mm") from None
            row = svc.db.conn.execute("SELECT id FROM visits WHERE visit_date = ? AND queue_number = ?",
                                      [self._today(svc), int(number)]).fetchone()
            if row is None:
                raise UsageError(f"no visit {number} today")
            return sn.start(svc.db, row[0], reason, clock=svc.clock, facility_code=code, address_of_stay=address,
                            stay_from=begin, stay_until=end, passport_number=passport or None)

        def done(result, error):
            if error is not None:
                self._say(S.message, *self._error_words(error))
                return
            for e in (S.queue_number, S.reason, S.stay_from, S.stay_until, S.passport):
                e.clear()
            self._say(S.message, tr("Stay started; the notification is due by {deadline}."),
                      deadline=_local(result.deadline_at, "%H:%M %d/%m"))
            self.refresh_stays()
        self.bridge.submit(job, done)

    def record_receipt(self) -> None:
        S = self.stays_page
        rows = S.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.stays):
            self._say(S.message, tr("Choose a stay notification first."))
            return
        n_id, text = self.stays[rows[0].row()]["id"], S.receipt.text()

        def job(svc):
            from kiosk.services import stay_notification as sn
            return sn.record_receipt(svc.db, n_id, text, clock=svc.clock)

        def done(result, error):
            if error is not None:
                self._say(S.message, *self._error_words(error))
                return
            S.receipt.clear()
            self._say(S.message, RECEIPT_WORDS.get(result[1], RECEIPT_WORDS["recorded"]))
            self.refresh_stays()
        self.bridge.submit(job, done)

    # ----- status
    @Slot(object)
    def on_status(self, status: DeviceStatus) -> None:
        self.devices[status.device] = status
        self._render_devices()

    def _render_devices(self) -> None:
        for key, (_, state) in self.status_page.device_labels.items():
            s = self.devices.get(key)
            state.set(tr("Unknown") if s is None else tr("Connected") if s.connected else tr("Not connected"),
                      self.lang)
        self._render_problem()

    def _render_problem(self) -> None:
        """The one thing on the status page that needs action, most serious first."""
        from drivers.hid_scanner import SWITCH_TO_SERIAL
        sync = getattr(self, "_problem_sync", None) or {}
        scanner = self.devices.get("scanner")
        if sync.get("token_refused"):
            self._say(self.status_page.problem, tr("Sync stopped: the hub no longer accepts this kiosk. Nothing is "
                                                   "lost; call the technician to enrol it again."))
        elif sync.get("needs_manual"):
            self._say(self.status_page.problem, tr("{count} records were refused by the hub: submit them by hand "
                                                   "and record the receipt."), count=sync["needs_manual"])
        elif scanner is not None and not scanner.connected and scanner.detail == SWITCH_TO_SERIAL:
            self._say(self.status_page.problem, tr("The QR scanner is in keyboard mode, which cannot read "
                                                   "Vietnamese: switch it to serial (USB COM) mode."))
        else:
            self.status_page.problem.set("", self.lang)

    def refresh_status(self) -> None:
        printer = self.bridge.printer

        def job(svc):
            now = svc.clock.now()
            try:
                from sync.sender import status as sync_status
                sync = sync_status(svc.db, now)
            except Exception:
                queued = svc.db.conn.execute("SELECT count(*) FROM outbox WHERE state IN ('queued','sent')")
                sync = {"queued": queued.fetchone()[0], "last_success": None}
            roster = svc.db.conn.execute("SELECT value FROM meta WHERE key = 'roster.as_of'").fetchone()
            pending = svc.db.conn.execute(
                "SELECT count(*) FROM visits v JOIN eligibility_results e ON e.id = (SELECT max(id) FROM "
                "eligibility_results WHERE visit_id = v.id) WHERE v.visit_date = ? AND e.source = 'none'",
                [self._today(svc)]).fetchone()[0]
            printer_state = printer.status() if printer is not None else None
            return sync, roster[0] if roster else None, svc.clock.synchronised(), pending, printer_state

        def done(result, error):
            if error is not None:
                self._say(self.status_page.message, *self._error_words(error))
                return
            sync, roster, synced, pending, printer_state = result
            P = self.status_page
            self._say(P.sync, tr("Waiting to sync: {queued} · last success: {when}"), queued=sync.get("queued", 0),
                      when=_local(sync.get("last_success"), "%H:%M %d/%m"))
            self._say(P.roster, tr("Insurance list of: {date} · visits not verified today: {pending}"),
                      date=_local(roster + "T00:00:00+07:00", "%d/%m/%Y") if roster else "—", pending=pending)
            self._say(P.clock, tr("Clock synchronised") if synced else tr("Clock NOT synchronised: times may be wrong"))
            self._problem_sync = sync
            self._render_problem()
            if printer_state is not None:
                connected, detail = printer_state
                self.devices["printer"] = DeviceStatus("printer", connected and detail != "paper_out", detail)
            self._render_devices()
        self.bridge.submit(job, done)

    def recheck(self) -> None:
        """Ask the online lookup again for today's visits that could not be verified."""
        staff_id = self.session.staff_id if self.session else None

        fn = self.recheck_fn

        def job(svc):
            return None if fn is None else fn(svc, staff_id)

        def done(result, error):
            if error is not None:
                self._say(self.status_page.message, tr("The online lookup is not reachable now; try later."))
            elif result is None:
                self._say(self.status_page.message, tr("Online re-check is not available on this kiosk yet."))
            else:
                self._say(self.status_page.message, tr("Re-checked {count} visit(s)."), count=result)
                self.refresh_status()
        self.bridge.submit(job, done)

    # ----- end of day
    def refresh_day(self) -> None:
        def job(svc):
            from kiosk.services import desk
            return desk.end_of_day(svc.db.conn, self._today(svc))

        def done(counts, error):
            if error is not None or self.session is None:
                return
            D = self.day
            self._say(D.total, tr("Visits today: {count}"), count=counts["visits"])
            labels = {s.code: s.label(self.lang) for s in self.services}
            D.by_service.setText("\n".join(f"{labels.get(k, k)}: {v}" for k, v in counts["by_service"].items()))
            D.by_bhyt.setText("\n".join(f"{T(self.lang, BHYT_WORDS[k])}: {v}" for k, v in counts["by_bhyt"].items()))
        self.bridge.submit(job, done)

    def export_day(self) -> None:
        staff_id = self.session.staff_id
        out_dir = self.export_dir

        def job(svc):
            from kiosk import store
            from kiosk.services import desk
            day = self._today(svc)
            path = out_dir / f"visits-{day}.csv"
            with store.transaction(svc.db) as conn:
                return desk.export_csv(conn, day, path, staff_id, svc.clock.now()), path

        def done(result, error):
            if error is not None:
                self._say(self.day.message, *self._error_words(error))
                return
            self._say(self.day.message, tr("Exported {rows} visit(s) to {path}; the export is recorded."),
                      rows=result[0], path=str(result[1]))
        self.bridge.submit(job, done)

    # ----- staff (administrator)
    def refresh_staff(self) -> None:
        def job(svc):
            from kiosk.services import staff
            return staff.list_staff(svc.db.conn)

        def done(rows, error):
            if error is not None or self.session is None:
                return
            self.staff_rows = rows
            t = self.staff.table
            t.setRowCount(len(rows))
            for i, a in enumerate(rows):
                cells = [a.full_name, a.masked_id, T(self.lang, tr("Administrator") if a.is_admin else tr("Receptionist")),
                         T(self.lang, tr("Disabled") if a.disabled else tr("Active"))]
                for j, c in enumerate(cells):
                    t.setItem(i, j, QTableWidgetItem(c))
        self.bridge.submit(job, done)

    def add_staff(self) -> None:
        A, by = self.staff, self.session.staff_id
        name, id_number, pin, admin = A.name.text(), A.id_number.text().strip(), A.pin.text(), A.admin.isChecked()

        def job(svc):
            from kiosk import store
            from kiosk.services import staff
            with store.transaction(svc.db) as conn:
                return staff.add(conn, name, id_number, pin, svc.clock.now(), is_admin=admin, by=by)

        def done(result, error):
            if error is not None:
                self._say(A.message, *self._error_words(error))
                return
            for e in (A.name, A.id_number, A.pin):
                e.clear()
            self._say(A.message, tr("Account added."))
            self.refresh_staff()
        self.bridge.submit(job, done)

    def staff_action(self, action: str) -> None:
        A, by = self.staff, self.session.staff_id
        rows = A.table.selectionModel().selectedRows()
        if not rows or rows[0].row() >= len(self.staff_rows):
            self._say(A.message, tr("Choose an account first."))
            return
        target, pin = self.staff_rows[rows[0].row()].id, A.pin.text()

        def job(svc):
            from kiosk import store
            from kiosk.services import staff
            with store.transaction(svc.db) as conn:
                now = svc.clock.now()
                if action == "reset":
                    return staff.reset_pin(conn, target, pin, now, by=by)
                return staff.set_disabled(conn, target, action == "disable", now, by=by)

        def done(result, error):
            if error is not None:
                self._say(A.message, *self._error_words(error))
                return
            A.pin.clear()
            self._say(A.message, tr("Account updated."))
            self.refresh_staff()
        self.bridge.submit(job, done)


@dataclass(frozen=True)
class _TicketVisit:
    visit_id: int
    queue_number: int
    created_at: str


STATUS_DONE_WORDS = {"being_seen_call": tr("Calling number {number}."), "done": tr("Number {number} is done."),
                     "left": tr("Number {number} marked as left."), "cancelled": tr("Number {number} cancelled."),
                     "waiting": tr("Number {number} is waiting again."), "being_seen": tr("Calling number {number}.")}
STAY_STATES = {"pending": tr("Waiting to send"), "sent": tr("Sent"), "acknowledged": tr("Acknowledged"),
               "needs_manual": tr("Submit by hand"), "receipt_recorded": tr("Receipt recorded")}
RECEIPT_WORDS = {"withdrawn": tr("Receipt recorded; the queued notification will not be sent twice."),
                 "recorded": tr("Receipt recorded."),
                 "kept_both": tr("Receipt recorded, but the kiosk had already sent it: tell the police desk it was "
                                 "submitted twice.")}
