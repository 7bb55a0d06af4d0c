"""The Manual entry page: a check-in typed by the receptionist when a card cannot be read, then its ticket.

The typed fields go through the same parsers' rules as a scan, and the
visit is marked `manual_entry` with who typed it: one step,
kiosk.services.manual_entry.check_in. The ticket is its own step after it
(the printer).
"""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QGridLayout, QHBoxLayout, QVBoxLayout

from kiosk.services import manual_entry
from kiosk.services.checkin import Outcome, Refusal
from kiosk.store import Database
from ui.common import T, TButton, TLabel, tr
from ui.console.page import Page, Shell, edit
from ui.ops import Op

KINDS = (("id_number", tr("ID number (CCCD)")), ("bhyt", tr("Health-insurance number")),
         ("passport", tr("Passport (foreigner)")))
SEXES = (("", tr("Sex")), ("male", tr("Male")), ("female", tr("Female")))


class ManualPage(Page):
    def __init__(self, shell: Shell):
        super().__init__(shell)
        lay = QVBoxLayout(self)
        self.heading = TLabel(tr("Manual check-in (card could not be read)"), "heading", name="heading")
        lay.addWidget(self.heading)
        grid = QGridLayout()
        self.kind = QComboBox()
        self.kind.setObjectName("kind")
        self.number = edit(tr("Number"), "number")
        self.name = edit(tr("Full name"), "full_name")
        self.dob = edit(tr("Date of birth dd/mm/yyyy"), "date_of_birth")
        self.sex = QComboBox()
        self.sex.setObjectName("sex")
        self.nationality = edit(tr("Nationality (e.g. FRA)"), "nationality")
        self.service = QComboBox()
        self.service.setObjectName("service")
        for i, w in enumerate((self.kind, self.number, self.name, self.dob, self.sex, self.nationality)):
            grid.addWidget(w, i // 2, i % 2)
        lay.addLayout(grid)
        self.submit = TButton(tr("Check in and print ticket"), name="submit")
        line = QHBoxLayout()
        line.addWidget(self.service, 1)
        line.addWidget(self.submit, 1)
        lay.addLayout(line)
        self.message = TLabel("", "heading", name="message")
        lay.addWidget(self.message)
        lay.addStretch(1)
        self.submit.clicked.connect(self.check_in)

    def retranslate(self) -> None:
        lang = self.lang
        for box, choices in ((self.kind, KINDS), (self.sex, SEXES)):
            box.clear()
            for code, words in choices:
                box.addItem(T(lang, words), code)
        self.service.clear()
        for s in self.shell.services:
            self.service.addItem(s.label(lang), s.code)

    def check_in(self) -> None:
        if self.session is None:
            return
        args = dict(kind=self.kind.currentData(), number=self.number.text(), full_name=self.name.text(),
                    date_of_birth=self.dob.text(), sex=self.sex.currentData() or "",
                    nationality=self.nationality.text())
        services = self.shell.services
        service = next((s for s in services if s.code == self.service.currentData()), services[0])
        staff_id = self.session.staff_id
        bridge = self.shell.bridge

        def check_in(db: Database) -> Outcome:  # the fields go through the parsers' rules (ParseError names one)
            return manual_entry.check_in(bridge.app.checkin_service(db), manual_entry.manual_document(**args),
                                         staff_id)

        def done(outcome: Outcome) -> None:
            if isinstance(outcome, Refusal):
                self.say(self.message, tr("Not saved: {detail}"), detail=outcome.reason)
                return
            for e in (self.number, self.name, self.dob, self.nationality):
                e.clear()
            self.say(self.message, tr("Number {number} for {name}."), number=outcome.queue_number,
                     name=outcome.patient.get("full_name", ""))
            bridge.ticket(outcome, service, self.lang, self.shell.facility_name, staff_id=staff_id) \
                .failure(failed).run(bridge)

        def failed(error: Exception) -> None:
            self.say_error(self.message, error)
        Op(check_in).success(done).failure(failed).run(bridge)
