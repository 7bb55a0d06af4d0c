"""The Status page: sync, the insurance list's date, the clock, each device, and the one thing to act on.

Devices report through the bridge (`on_status`); the printer, which is not
a scan source, is asked on the desk thread when the page refreshes.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import QGridLayout, QVBoxLayout

from drivers.hid_scanner import SWITCH_TO_SERIAL
from drivers.scan import DeviceStatus
from kiosk.clock import vn_date
from ui.common import TButton, TLabel, tr
from ui.console.page import Page, Shell, local_time, row
from ui.ops import Op

DEVICES = (("reader", tr("Chip card reader")), ("scanner", tr("QR scanner")), ("camera", tr("Camera")),
           ("printer", tr("Ticket printer")))


class StatusPage(Page):
    periodic = True

    def __init__(self, shell: Shell, recheck: Callable[[Any, int | None], int | None] | None = None):
        super().__init__(shell)
        self.recheck_fn = recheck  # (db, staff_id) -> visits re-checked, or None when no lookup is set up
        self.devices: dict[str, DeviceStatus] = {}
        self._sync: dict[str, Any] = {}
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
        if sync.get("token_refused"):
            self.say(self.problem, tr("Sync stopped: the hub no longer accepts this kiosk. Nothing is "
                                      "lost; call the technician to enrol it again."))
        elif sync.get("needs_manual"):
            self.say(self.problem, tr("{count} records were refused by the hub: submit them by hand "
                                      "and record the receipt."), count=sync["needs_manual"])
        elif scanner is not None and not scanner.connected and scanner.detail == SWITCH_TO_SERIAL:
            self.say(self.problem, tr("The QR scanner is in keyboard mode, which cannot read "
                                      "Vietnamese: switch it to serial (USB COM) mode."))
        else:
            self.problem.set("", self.lang)

    def refresh(self) -> None:
        printer = self.shell.bridge.printer

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
                [vn_date(now).isoformat()]).fetchone()[0]
            printer_state = printer.status() if printer is not None else None
            return sync, roster[0] if roster else None, svc.clock.synchronised(), pending, printer_state

        def done(result) -> None:
            sync, roster, synced, pending, printer_state = result
            self.say(self.sync, tr("Waiting to sync: {queued} · last success: {when}"), queued=sync.get("queued", 0),
                     when=local_time(sync.get("last_success"), "%H:%M %d/%m"))
            self.say(self.roster, tr("Insurance list of: {date} · visits not verified today: {pending}"),
                     date=local_time(roster + "T00:00:00+07:00", "%d/%m/%Y") if roster else "—", pending=pending)
            self.say(self.clock, tr("Clock synchronised") if synced else tr("Clock NOT synchronised: times may be wrong"))
            self._sync = sync
            if printer_state is not None:
                connected, detail = printer_state
                self.devices["printer"] = DeviceStatus("printer", connected and detail != "paper_out", detail)
            self.render_devices()
        Op(job).success(done).failure(lambda e: self.say_error(self.message, e)).run(self.shell.bridge)

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
        Op(lambda svc: None if fn is None else fn(svc, staff_id)).success(done).failure(
            lambda e: self.say(self.message, tr("The online lookup is not reachable now; try later."))
        ).run(self.shell.bridge)
