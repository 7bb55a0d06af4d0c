"""The Queue page: today's visits, call next, visit states, corrections, added services, reprints, face check.

The chip photo of a selected patient shows beside the list for the face
check; photos live only in this page's memory (the last 20), never on disk,
and are dropped when the console locks.
"""

from __future__ import annotations

import logging
from typing import Callable

from PySide6.QtCore import Qt, Slot
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QComboBox, QGridLayout, QHBoxLayout, QHeaderView, QSizePolicy, QTableWidgetItem, \
    QVBoxLayout, QWidget

from kiosk.services import desk
from kiosk.services.desk import QueueRow, bhyt_answer
from kiosk.services.tickets import IssuedTicket
from kiosk.store import Database, views
from ui.common import Label, T, TButton, TLabel, tr
from ui.console.page import DESK_ERRORS, Page, Shell, edit, row, selected_index, table
from ui.ops import Op

log = logging.getLogger(__name__)

STATE_WORDS = {"waiting": tr("Waiting"), "being_seen": tr("Being seen"), "done": tr("Done"), "left": tr("Left"),
               "cancelled": tr("Cancelled")}
BHYT_WORDS = {"covered": tr("Covered"), "not_covered": tr("Not covered"), "unverified": tr("Not verified")}
COVERED = {"000", "001", "002", "003", "004"}
# visit flags that question who the patient is, and what the console says of each
IDENTITY_FLAG_WORDS = (
    ("identity_mismatch", tr("Scanned again with another name or birth date: check the ID card")),
    ("clone_suspected", tr("The chip failed its clone check: check the ID card")),
    ("chip_failed", tr("The chip data did not verify: check the ID card")),
)
STATUS_DONE_WORDS = {"done": tr("Number {number} is done."), "left": tr("Number {number} marked as left."),
                     "cancelled": tr("Number {number} cancelled."), "waiting": tr("Number {number} is waiting again."),
                     "being_seen": tr("Calling number {number}.")}
CALLING = tr("Calling number {number}.")
MAX_PHOTOS = 20


class QueuePage(Page):
    periodic = True

    def __init__(self, shell: Shell):
        super().__init__(shell)
        self.rows: list[QueueRow] = []
        self.photos: dict[int, bytes] = {}  # visit_id → chip face image, memory only
        lay = QVBoxLayout(self)
        self.search = edit(tr("Search by name, ID or number"), "search")
        self.search_button = TButton(tr("Search"), "secondary", name="search_button")
        self.search_button.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Preferred)
        self.search_row = QWidget()
        self.search_row.setLayout(row(self.search, self.search_button))
        self.search_row.layout().setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.search_row)
        mid = QHBoxLayout()
        self.table = table([tr("No."), tr("State"), tr("Name"), tr("ID"), tr("Services"), tr("Insurance")], "queue")
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
        self.edit_value = edit("", "edit_value")
        self.edit_apply = TButton(tr("Save"), name="edit_apply")
        self.edit_apply.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Preferred)
        self.edit_close = TButton(tr("Close"), "secondary", name="edit_close")
        self.edit_close.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Preferred)
        self.edit_row = QWidget()
        self.edit_row.setLayout(row(self.edit_choice, self.edit_value, self.edit_apply, self.edit_close))
        self.edit_row.layout().setContentsMargins(0, 0, 0, 0)
        self.edit_row.hide()
        self.edit_mode = ""
        lay.insertWidget(1, self.edit_row)  # in the search row's place while editing
        self.message = TLabel("", "small", name="message")
        lay.addWidget(self.message)
        self.edit_close.clicked.connect(self.close_edit)
        self.search_button.clicked.connect(self.refresh)
        self.search.returnPressed.connect(self.refresh)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.call_next.clicked.connect(self.call)
        for button, state in ((self.done, "done"), (self.left, "left"), (self.cancel, "cancelled"),
                              (self.waiting, "waiting")):
            button.clicked.connect(lambda _=False, s=state: self.set_status(s))
        self.correct.clicked.connect(lambda: self.open_edit("correct"))
        self.add_service.clicked.connect(lambda: self.open_edit("service"))
        self.edit_apply.clicked.connect(self.apply_edit)
        self.reprint.clicked.connect(self.reprint_ticket)

    # ----- the list
    def refresh(self) -> None:
        if self.session is None:
            return
        text = self.search.text()

        Op(lambda db: desk.queue_for(db, views.today(db), text)).success(self._loaded).failure(self.refused) \
            .run(self.bridge)

    def _loaded(self, rows: list[QueueRow]) -> None:
        if self.session is None:
            return
        selected = self.selected_visit()
        self.rows = rows
        self.show_rows(selected)

    def show_rows(self, keep: int | None = None) -> None:
        t, lang = self.table, self.lang
        t.setRowCount(len(self.rows))
        labels = {s.code: s.label(lang) for s in self.shell.services}
        for i, r in enumerate(self.rows):
            cells = [str(r.queue_number), T(lang, STATE_WORDS[r.status]), r.full_name,
                     r.masked_id or "—", ", ".join(labels.get(s, s) for s in r.services),
                     T(lang, BHYT_WORDS[bhyt_answer(r.result_code, r.eligibility_source)])
                     + (f" {r.benefit_percent}%" if r.benefit_percent and r.result_code in COVERED else "")]
            if "manual_entry" in r.flags:
                cells[3] += " ✎"
            # identity flags: the receptionist checks the person before the visit goes on
            warn = [T(lang, words) for flag, words in IDENTITY_FLAG_WORDS if flag in r.flags]
            if warn:
                cells[2] = "⚠ " + cells[2]
            for j, c in enumerate(cells):
                item = QTableWidgetItem(c)
                if warn and j == 2:
                    item.setToolTip("\n".join(warn))
                t.setItem(i, j, item)
            if keep is not None and r.visit_id == keep:
                t.selectRow(i)

    def retranslate(self) -> None:
        self.show_rows()

    def forget(self) -> None:
        self.rows = []
        self.photo.clear()
        self.close_edit()

    def selected_visit(self) -> int | None:
        i = selected_index(self.table, len(self.rows))
        return None if i is None else self.rows[i].visit_id

    def selected_row(self) -> QueueRow | None:
        i = selected_index(self.table, len(self.rows))
        return None if i is None else self.rows[i]

    # ----- the face check
    @Slot(int, bytes)
    def on_photo(self, visit_id: int, photo: bytes) -> None:
        self.photos[visit_id] = photo
        while len(self.photos) > MAX_PHOTOS:  # only the last few patients' faces, never on disk
            self.photos.pop(next(iter(self.photos)))

    def _selection_changed(self) -> None:
        vid = self.selected_visit()
        photo = self.photos.get(vid) if vid is not None else None
        self.photo.clear()
        if vid is None or not photo or self.session is None:
            return
        pm = QPixmap()
        if not pm.loadFromData(photo):  # e.g. JPEG 2000, which this Qt build may not decode
            self.photo.setText(T(self.lang, tr("The chip photo cannot be shown here")))
            return
        self.photo.setPixmap(pm.scaled(self.side.width(), self.side.width() * 4 // 3,
                                       Qt.AspectRatioMode.KeepAspectRatio))
        staff_id = self.session.staff_id

        Op(lambda db: desk.record_view(db, vid, staff_id, what="chip photo face check")).failure(
            lambda e: None).run(self.bridge)

    # ----- changes
    def _change(self, change: Callable[[Database, int], QueueRow | None], ok_source: str, *,
                call: bool = False) -> None:
        """One desk service as the signed-in staff member; then the message, the voice, the list."""
        if self.session is None:
            return
        staff_id = self.session.staff_id

        def done(result: QueueRow | None) -> None:
            if result is None:
                self.say(self.message, tr("Nobody is waiting."))
            else:
                self.say(self.message, ok_source, number=result.queue_number)
                voice = self.shell.voice
                if call and voice is not None:
                    voice.call(result.queue_number)
            self.refresh()

        def failed(error: Exception) -> None:
            self.say_error(self.message, error)
            self.refresh()
        Op(lambda db: change(db, staff_id)).success(done).failure(failed).run(self.bridge)

    def call(self) -> None:
        self._change(lambda db, sid: desk.call_next(db, views.today(db), sid), CALLING, call=True)

    def set_status(self, status: str) -> None:
        vid = self.selected_visit()
        if vid is None:
            self.say(self.message, DESK_ERRORS["unknown_visit"])
            return
        self._change(lambda db, sid: desk.change_state(db, vid, status, sid), STATUS_DONE_WORDS[status])

    def open_edit(self, mode: str) -> None:
        if self.selected_visit() is None:
            self.say(self.message, DESK_ERRORS["unknown_visit"])
            return
        self.edit_mode = mode
        self.edit_choice.clear()
        if mode == "correct":
            for code, words in (("full_name", tr("Name")), ("date_of_birth", tr("Date of birth (yyyy-mm-dd)")),
                                ("sex", tr("Sex (male/female)"))):
                self.edit_choice.addItem(T(self.lang, words), code)
            self.edit_value.setVisible(True)
        else:
            for s in self.shell.services:
                self.edit_choice.addItem(s.label(self.lang), s.code)
            self.edit_value.setVisible(False)
        self.edit_value.clear()
        self.search_row.hide()
        self.edit_row.show()

    def close_edit(self) -> None:
        self.edit_row.hide()
        self.search_row.show()

    def apply_edit(self) -> None:
        vid, choice, value = self.selected_visit(), self.edit_choice.currentData(), self.edit_value.text()
        if vid is None:
            self.say(self.message, DESK_ERRORS["unknown_visit"])
            return
        if self.edit_mode == "correct":
            self._change(lambda db, sid: desk.correct(db, vid, choice, value, sid),
                         tr("Corrected number {number}; the change is recorded with your name."))
        else:
            self._change(lambda db, sid: desk.add_service(db, vid, choice, sid),
                         tr("Service added to number {number}."))
        self.close_edit()

    def reprint_ticket(self) -> None:
        r = self.selected_row()
        if r is None or self.session is None:
            self.say(self.message, DESK_ERRORS["unknown_visit"])
            return
        service = next((s for s in self.shell.services if r.services and s.code == r.services[0]), None)

        def done(issued: IssuedTicket) -> None:
            if issued.printer_problem:
                self.say(self.message, tr("The printer is not working ({reason})."), reason=issued.printer_problem)
            else:
                self.say(self.message, tr("Ticket {number} printed again."), number=r.queue_number)
        self.shell.bridge.ticket(r, service, self.lang, self.shell.facility_name, staff_id=self.session.staff_id,
                                 reprint=True).success(done).failure(
            self.refused).run(self.bridge)
