"""The Staff page (administrators only): the accounts, adding one, disabling, enabling, resetting a PIN.

The services refuse what a receptionist may not do (kiosk.services.staff);
the shell also hides this tab from them.
"""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QGridLayout, QLineEdit, QTableWidgetItem, QVBoxLayout

from kiosk.services import staff
from kiosk.services.staff import StaffAccount
from kiosk.store import Database
from ui.common import T, TButton, TLabel, tr
from ui.console.page import Page, Shell, edit, row, selected_index, table
from ui.ops import Op


class StaffPage(Page):
    def __init__(self, shell: Shell):
        super().__init__(shell)
        self.staff_rows: list[StaffAccount] = []
        lay = QVBoxLayout(self)
        self.table = table([tr("Name"), tr("ID"), tr("Role"), tr("State")], "staff")
        lay.addWidget(self.table, 1)
        self.name = edit(tr("Full name"), "staff_name")
        self.id_number = edit(tr("ID number (12 digits)"), "staff_id_number")
        self.pin = edit(tr("PIN (4-8 digits)"), "staff_pin")
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.admin = QCheckBox()
        self.admin.setObjectName("staff_admin")
        self.add = TButton(tr("Add account"), name="add_staff")
        grid = QGridLayout()
        for i, w in enumerate((self.name, self.id_number, self.pin, self.admin)):
            grid.addWidget(w, i // 2, i % 2)
        lay.addLayout(grid)
        self.disable = TButton(tr("Disable"), "danger", name="disable_staff")
        self.enable = TButton(tr("Enable"), "secondary", name="enable_staff")
        self.reset = TButton(tr("Reset PIN"), "secondary", name="reset_pin")
        lay.addLayout(row(self.add, self.disable, self.enable, self.reset))
        self.message = TLabel("", "small", name="message")
        lay.addWidget(self.message)
        self.add.clicked.connect(self.add_account)
        for button, action in ((self.disable, "disable"), (self.enable, "enable"), (self.reset, "reset")):
            button.clicked.connect(lambda _=False, a=action: self.change(a))

    def retranslate(self) -> None:
        self.admin.setText(T(self.lang, tr("Administrator")))

    def forget(self) -> None:
        self.staff_rows = []

    def refresh(self) -> None:
        def done(rows: list[StaffAccount]) -> None:
            if self.session is None:
                return
            self.staff_rows = rows
            self.table.setRowCount(len(rows))
            for i, a in enumerate(rows):
                cells = [a.full_name, a.masked_id,
                         T(self.lang, tr("Administrator") if a.is_admin else tr("Receptionist")),
                         T(self.lang, tr("Disabled") if a.disabled else tr("Active"))]
                for j, c in enumerate(cells):
                    self.table.setItem(i, j, QTableWidgetItem(c))
        Op(lambda db: staff.list_staff(db)).success(done).failure(lambda e: None).run(self.bridge)

    def _done(self, words: str, *cleared: QLineEdit) -> None:
        for e in cleared:
            e.clear()
        self.say(self.message, words)
        self.refresh()

    def add_account(self) -> None:
        if self.session is None:
            return
        by = self.session.staff_id
        name, id_number, pin, admin = self.name.text(), self.id_number.text().strip(), self.pin.text(), \
            self.admin.isChecked()

        Op(lambda db: staff.add(db, name, id_number, pin, is_admin=admin, by=by)) \
            .success(lambda _a: self._done(tr("Account added."), self.name, self.id_number, self.pin)) \
            .failure(self.refused).run(self.bridge)

    def change(self, action: str) -> None:
        if self.session is None:
            return
        i = selected_index(self.table, len(self.staff_rows))
        if i is None:
            self.say(self.message, tr("Choose an account first."))
            return
        by, target, pin = self.session.staff_id, self.staff_rows[i].id, self.pin.text()

        def job(db: Database) -> StaffAccount:
            if action == "reset":
                return staff.reset_pin(db, target, pin, by=by)
            return staff.set_disabled(db, target, action == "disable", by=by)
        Op(job).success(lambda _a: self._done(tr("Account updated."), self.pin)).failure(
            self.refused).run(self.bridge)
