"""Issuing a queue ticket: record the chosen service on the visit, print the ticket, record the print.

The visit and its service are committed before the printer is touched, so a
jammed or unplugged printer never loses a check-in: the patient is told to
remember the number on screen and the receptionist can reprint. A printer
failure is classified for the screen ("offline" or "paper_out") and recorded
as the printer's state for the heartbeat; nothing is retried here.

Public API: :func:`issue_ticket` → :class:`IssuedTicket`. Printing is slow
I/O: callers run this off the GUI thread (ui.app.CheckinBridge's desk thread).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from kiosk.clock import VN_TZ
from kiosk.domain import Ticket
from kiosk.errors import UnavailableError
from kiosk.logs import event
from kiosk.services import UnitOfWork, device_status, transaction
from kiosk.services import desk
from kiosk.services.desk import Service
from kiosk.text import t

log = logging.getLogger(__name__)

PROBLEMS = ("offline", "paper_out")  # what the patient's screen can say of a printer that did not print


class TicketPrinter(Protocol):
    """Any printer driver (drivers.protocols.Printer); it raises an UnavailableError (PrinterError) when it
    cannot print, with `reason` "offline", "paper_out" or "error"."""

    def print_ticket(self, ticket: Ticket) -> object: ...


class NumberedVisit(Protocol):
    """What a ticket needs of a visit: a check-in's outcome or a row of the console's queue."""

    @property
    def visit_id(self) -> int: ...

    @property
    def queue_number(self) -> int: ...

    @property
    def created_at(self) -> str: ...


@dataclass(frozen=True)
class IssuedTicket:
    service: Service | None
    printed: object | None  # what the printer returned (the simulated printer: the PNG's path)
    printer_problem: str | None  # "offline" | "paper_out" when nothing was printed; None when printed or no printer


def issue_ticket(db: UnitOfWork, printer: TicketPrinter | None, checkin: NumberedVisit, service: Service | None,
                 lang: str, facility: str, staff_id: int | None = None, reprint: bool = False) -> IssuedTicket:
    """Add `service` to the visit (when given), print its ticket on `printer` (when there is one), and record
    the print (a reprint also in the visit's changes) and the printer's state."""
    now = db.clock.now()
    if service is not None:
        with transaction(db) as tx:
            desk.add_service(tx, checkin.visit_id, service.code, staff_id, now)
    if printer is None:
        return IssuedTicket(service, None, None)
    issued = datetime.fromisoformat(checkin.created_at.replace("Z", "+00:00")).astimezone(VN_TZ)
    ticket = Ticket(facility, checkin.queue_number, service.label(lang) if service is not None else "",
                    issued.strftime("%d/%m/%Y %H:%M"), heading=t("ticket.heading", lang))
    try:
        printed = printer.print_ticket(ticket)
    except UnavailableError as e:
        reason = str(getattr(e, "reason", ""))  # PrinterError's classification; any other outage is "offline"
        event(log, "ticket_not_printed", logging.WARNING, reason=reason or type(e).__name__)
        problem = reason if reason in PROBLEMS else "offline"
        _record_printer(db, "fault")
        return IssuedTicket(service, None, problem)
    with transaction(db) as tx:
        desk.record_print(tx, checkin.visit_id, staff_id, now, reprint=reprint)
    _record_printer(db, "ok")
    return IssuedTicket(service, printed, None)


def _record_printer(db: UnitOfWork, state: str) -> None:
    """The printer's state for the heartbeat; never a reason for the ticket to fail."""
    try:
        if device_status.record(db, "printer", state):
            event(log, "device_state", device="printer", state=state)
    except Exception as e:  # a busy database here must not turn a printed ticket into an error
        event(log, "device_state_not_recorded", logging.WARNING, device="printer", error=type(e).__name__)
