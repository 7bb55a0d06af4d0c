"""The Status page: sync, the insurance list's date, the clock, each device, and the one thing to act on.

Devices report through the bridge (`on_status`); the printer, which is not
a scan source, is asked on the desk thread when the page refreshes.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QGridLayout, QVBoxLayout

from drivers.protocols import SWITCH_TO_SERIAL, DeviceStatus
from kiosk.store import Database, views
from kiosk.store.views import ConsoleStatus, SyncSummary
from ui.common import TButton, TLabel, tr
from ui.console.page import Page, Shell, local_time, row
from ui.ops import Op

Recheck = Callable[[Database, int | None], int | None]  # (db, staff_id) → visits re-checked; None: no lookup
DEVICES = (("reader", tr("Chip card reader")), ("scanner", tr("QR scanner")), ("camera", tr("Camera")),
           ("printer", tr("Ticket printer")))


class StatusPage(Page):
    periodic = True

    def __init__(self, shell: Shell, recheck: Recheck | None = None):
        super().__init__(shell)
        self.recheck_fn = recheck  # (db, staff_id) -> visits re-checked, or None when no lookup is set up
        self.devices: dict[str, DeviceStatus] = {}
        self._sync = SyncSummary(0, 0, None, None)
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
        for i, (key, words) in enumerate(DEVICES):
            name = TLabel(words, "body", name=f"device_{key}", align=left)
            state = TLabel(tr("Unknown"), "body", name=f"device_{key}_state", align=left)
            grid.addWidget(name, i // 2, (i % 2) * 2)
            grid.addWidget(state, i // 2, (i % 2) * 2 + 1)
            self.device_labels[key] = (name, state)
        lay.addLayout(grid)
        self.recheck = TButton(tr("Re-check pending insurance online"), name="recheck")
        self.refresh_button = TButton(tr("Refresh"), "secondary", name="refresh_status")
        lay.addLayout(row(self.recheck, self.refresh_button))
        self.message = TLabel("", "small", name="message")
        lay.addWidget(self.message)
        lay.addStretch(1)
        self.refresh_button.clicked.connect(self.refresh)
        self.recheck.clicked.connect(self.recheck_online)

    @Slot(object)
    def on_status(self, status: DeviceStatus) -> None:
        self.devices[status.device] = status
        self.render_devices()

    def retranslate(self) -> None:
        self.render_devices()

    def render_devices(self) -> None:
        for key, (_, state) in self.device_labels.items():
            s = self.devices.get(key)
            state.set(tr("Unknown") if s is None else tr("Connected") if s.connected else tr("Not connected"),
                      self.lang)
        self._render_problem()

    def _render_problem(self) -> None:
        """The one thing on the status page that needs action, most serious first."""
        sync, scanner = self._sync, self.devices.get("scanner")
        if sync.token_refused:
            self.say(self.problem, tr("Sync stopped: the hub no longer accepts this kiosk. Nothing is "
                                      "lost; call the technician to enrol it again."))
        elif sync.needs_manual:
            self.say(self.problem, tr("{count} records were refused by the hub: submit them by hand "
                                      "and record the receipt."), count=sync.needs_manual)
        elif scanner is not None and not scanner.connected and scanner.detail == SWITCH_TO_SERIAL:
            self.say(self.problem, tr("The QR scanner is in keyboard mode, which cannot read "
                                      "Vietnamese: switch it to serial (USB COM) mode."))
        else:
            self.problem.set("", self.lang)

    def refresh(self) -> None:
        bridge, printer = self.shell.bridge, self.shell.bridge.printer
        Op(views.console_status).success(self._show).failure(self.refused).run(bridge)
        if printer is not None:  # not a scan source: asked here, on the desk thread (it may be slow)
            Op(lambda _db: printer.status()).success(self._show_printer).failure(lambda e: None).run(bridge)

    def _show(self, status: ConsoleStatus) -> None:
        sync, roster = status.sync, status.roster_as_of
        self.say(self.sync, tr("Waiting to sync: {queued} · last success: {when}"), queued=sync.waiting,
                 when=local_time(sync.last_success, "%H:%M %d/%m"))
        self.say(self.roster, tr("Insurance list of: {date} · visits not verified today: {pending}"),
                 date=local_time(roster + "T00:00:00+07:00", "%d/%m/%Y") if roster else "—",
                 pending=status.unverified_today)
        self.say(self.clock, tr("Clock synchronised") if status.clock_synchronised
                 else tr("Clock NOT synchronised: times may be wrong"))
        self._sync = sync
        self.render_devices()

    def _show_printer(self, state: tuple[bool, str]) -> None:
        connected, detail = state
        self.devices["printer"] = DeviceStatus("printer", connected and detail != "paper_out", detail)
        self.render_devices()

    def recheck_online(self) -> None:
        """Ask the online lookup again for today's visits that could not be verified."""
        staff_id = self.session.staff_id if self.session else None
        fn = self.recheck_fn

        def done(result: int | None) -> None:
            if result is None:
                self.say(self.message, tr("Online re-check is not available on this kiosk yet."))
            else:
                self.say(self.message, tr("Re-checked {count} visit(s)."), count=result)
                self.refresh()
        Op(lambda db: None if fn is None else fn(db, staff_id)).success(done).failure(
            lambda e: self.say(self.message, tr("The online lookup is not reachable now; try later."))
        ).run(self.bridge)
