"""The Stays page: patients staying overnight, the police notification each needs, its deadline and receipt.

A notification due within the hour raises an alarm here and, from any page,
on the Stays tab (`StaysPage.alarms`, polled by the shell).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable

from PySide6.QtGui import QIntValidator
from PySide6.QtWidgets import QGridLayout, QTableWidgetItem, QVBoxLayout

from kiosk.clock import VN_TZ
from kiosk.services import desk
from kiosk.services import stay_notification as sn
from kiosk.services.desk import QueueRow
from kiosk.store import views
from ui.common import T, TButton, TLabel, tr
from ui.console.page import NOT_POSSIBLE, Page, Shell, edit, local_time, row, selected_index, table
from ui.ops import Op

STAY_STATES = {"pending": tr("Waiting to send"), "sent": tr("Sent"), "acknowledged": tr("Acknowledged"),
               "needs_manual": tr("Submit by hand"), "receipt_recorded": tr("Receipt recorded")}
RECEIPT_WORDS = {"withdrawn": tr("Receipt recorded; the queued notification will not be sent twice."),
                 "recorded": tr("Receipt recorded."),
                 "kept_both": tr("Receipt recorded, but the kiosk had already sent it: tell the police desk it was "
                                 "submitted twice.")}


def _parse_local(text: str) -> datetime | None:
    return datetime.strptime(text, "%d/%m/%Y %H:%M").replace(tzinfo=VN_TZ) if text else None


class StaysPage(Page):
    periodic = True

    def __init__(self, shell: Shell):
        super().__init__(shell)
        self.stays: list[dict[str, Any]] = []
        lay = QVBoxLayout(self)
        self.alarm = TLabel("", "error", name="alarm")
        lay.addWidget(self.alarm)
        self.table = table([tr("Visit"), tr("Name"), tr("ID"), tr("Deadline"), tr("Time left"), tr("State")], "stays")
        lay.addWidget(self.table, 1)
        self.queue_number = edit(tr("Queue no."), "stay_queue_number")
        self.reason = edit(tr("Reason for the stay"), "stay_reason")
        self.stay_from = edit(tr("From dd/mm/yyyy hh:mm (empty: now)"), "stay_from")
        self.stay_until = edit(tr("Until dd/mm/yyyy hh:mm (optional)"), "stay_until")
        self.queue_number.setValidator(QIntValidator(1, 9999, self.queue_number))
        self.passport = edit(tr("Passport no. (foreigner)"), "stay_passport")
        self.start = TButton(tr("Start stay"), name="start_stay")
        grid = QGridLayout()
        for i, w in enumerate((self.queue_number, self.reason, self.stay_from, self.stay_until, self.passport,
                               self.start)):
            grid.addWidget(w, i // 2, i % 2)
        lay.addLayout(grid)
        self.receipt = edit(tr("Receipt number of a hand submission"), "receipt")
        self.record = TButton(tr("Record receipt"), "secondary", name="record_receipt")
        lay.addLayout(row(self.receipt, self.record))
        self.message = TLabel("", "small", name="message")
        lay.addWidget(self.message)
        self.start.clicked.connect(self.start_stay)
        self.record.clicked.connect(self.record_receipt)

    def forget(self) -> None:
        self.stays = []

    def refresh(self) -> None:
        Op(sn.pending_with_time_left).success(self._loaded).failure(self.refused).run(self.bridge)

    def _loaded(self, rows: list[dict[str, Any]]) -> None:
        if self.session is None:
            return
        self.stays = rows
        t = self.table
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
            cells = [str(n["visit_id"]), n["full_name"], n["masked_id"], local_time(n["deadline_at"], "%H:%M %d/%m"),
                     left_text, T(self.lang, STAY_STATES.get(n["state"], tr("Unknown")))]
            for j, c in enumerate(cells):
                t.setItem(i, j, QTableWidgetItem(c))
        if alarms:
            self.say(self.alarm, tr("{count} stay notification(s) due within an hour!"), count=alarms)
        else:
            self.say(self.alarm, "")

    def count_alarms(self, then: Callable[[int], None]) -> None:
        """How many notifications are due within the hour, for the tab (from any page)."""
        Op(sn.pending_with_time_left).success(lambda rows: then(sum(1 for r in rows if r.get("alarm")))) \
            .failure(lambda e: None).run(self.bridge)

    def start_stay(self) -> None:
        """The stay starts from today's visit with the queue number typed (the number on the patient's ticket)."""
        number, reason, passport = self.queue_number.text().strip(), self.reason.text(), self.passport.text().strip()
        frm, until = self.stay_from.text().strip(), self.stay_until.text().strip()
        if not (number.isascii() and number.isdigit()):
            self.say(self.message, NOT_POSSIBLE, detail="queue number")
            return
        try:
            begin, end = _parse_local(frm), _parse_local(until)
        except ValueError:
            self.say(self.message, NOT_POSSIBLE, detail="dd/mm/yyyy hh:mm")
            return
        code, address, bridge = self.shell.facility_code, self.shell.facility_address, self.shell.bridge

        def found(visit: QueueRow | None) -> None:
            if visit is None:
                self.say(self.message, NOT_POSSIBLE, detail=f"no visit {number} today")
                return
            Op(lambda db: sn.start(db, visit.visit_id, reason, facility_code=code, address_of_stay=address,
                                   stay_from=begin, stay_until=end, passport_number=passport or None)) \
                .success(started).failure(self.refused).run(bridge)

        def started(result: sn.StayNotification) -> None:
            for e in (self.queue_number, self.reason, self.stay_from, self.stay_until, self.passport):
                e.clear()
            self.say(self.message, tr("Stay started; the notification is due by {deadline}."),
                     deadline=local_time(result.deadline_at, "%H:%M %d/%m"))
            self.refresh()
        Op(lambda db: desk.visit_by_number(db, views.today(db), int(number))).success(found).failure(
            self.refused).run(bridge)

    def record_receipt(self) -> None:
        i = selected_index(self.table, len(self.stays))
        if i is None:
            self.say(self.message, tr("Choose a stay notification first."))
            return
        n_id, text = self.stays[i]["id"], self.receipt.text()


        def done(result: tuple[sn.StayNotification, str]) -> None:
            self.receipt.clear()
            self.say(self.message, RECEIPT_WORDS.get(result[1], RECEIPT_WORDS["recorded"]))
            self.refresh()
        Op(lambda db: sn.record_receipt(db, n_id, text)).success(done).failure(self.refused).run(self.bridge)
