"""What the console's pages share: the shell they live in, their widgets' shapes, and the words for refusals.

A page renders answers and sends intents; it reaches the store only through
`ui.ops.Op` on the shell's bridge. The shell (`ui.console.window`) owns the
session, the language and the lock; pages ask it, never each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from PySide6.QtWidgets import QAbstractItemView, QHBoxLayout, QHeaderView, QLineEdit, QSizePolicy, QTableWidget, QWidget

from drivers.protocols import Voice
from kiosk.clock import VN_TZ
from kiosk.documents.errors import ParseError
from kiosk.errors import ReasonError, UsageError
from kiosk.services.desk import Service
from ui.app import CheckinBridge
from ui.common import TLabel, tr


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
NOT_POSSIBLE = tr("Not possible: {detail}")
SOMETHING_WRONG = tr("Something went wrong; the details are in the log.")


@dataclass
class Session:
    staff_id: int
    full_name: str
    is_admin: bool


class Shell(Protocol):
    """What a page may ask of the console window."""

    bridge: CheckinBridge
    lang: str
    session: Session | None
    services: list[Service]
    voice: Voice | None
    facility_code: str
    facility_name: str
    facility_address: str

    def show_page(self, page: str) -> None: ...


def error_words(error: BaseException) -> tuple[str, dict[str, object]]:
    """The receptionist's words for a refused action: the service's reason, the parser's field, or a usage error."""
    if isinstance(error, ReasonError) and error.reason in DESK_ERRORS:
        return DESK_ERRORS[error.reason], {}
    if isinstance(error, ParseError) and error.field in FIELD_ERRORS:
        return FIELD_ERRORS[error.field], {}
    if isinstance(error, UsageError):
        return NOT_POSSIBLE, {"detail": str(error)}
    return SOMETHING_WRONG, {}


class Page(QWidget):
    """One tab of the console. `refresh` runs when it is shown and on the periodic tick; `forget` on lock."""

    periodic = False  # refreshed by the shell's 20 s timer while shown
    message: TLabel  # the page's line for answers and refusals

    def __init__(self, shell: Shell):
        super().__init__()
        self.shell = shell

    @property
    def lang(self) -> str:
        return self.shell.lang

    @property
    def session(self) -> Session | None:
        return self.shell.session

    def say(self, label: TLabel, source: str, params: dict[str, object] | None = None, **kw: object) -> None:
        label.set(source, self.lang, **{**(params or {}), **kw})

    def say_error(self, label: TLabel, error: BaseException) -> None:
        self.say(label, *error_words(error))

    def refused(self, error: BaseException) -> None:
        """An Op's failure said on the page's message line."""
        self.say_error(self.message, error)

    @property
    def bridge(self) -> CheckinBridge:
        return self.shell.bridge

    def refresh(self) -> None:
        """Load what the page shows (on the desk thread)."""

    def forget(self) -> None:
        """Drop everything shown about people (the console locked)."""

    def retranslate(self) -> None:
        """Refill what `retranslate_tree` cannot reach (choices, rendered rows)."""


def local_time(iso: str | None, fmt: str = "%H:%M") -> str:
    if not iso:
        return "—"
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone(VN_TZ).strftime(fmt)
    except ValueError:
        return iso


def row(*widgets: QWidget) -> QHBoxLayout:
    lay = QHBoxLayout()
    for w in widgets:
        lay.addWidget(w)
    return lay


def edit(placeholder_source: str = "", name: str = "") -> QLineEdit:
    e = QLineEdit()
    e.placeholder_source = placeholder_source  # type: ignore[attr-defined]  # translated by the shell
    if name:
        e.setObjectName(name)
    return e


def table(headers: list[str], name: str) -> QTableWidget:
    t = QTableWidget(0, len(headers))
    t.setObjectName(name)
    t.header_sources = headers  # type: ignore[attr-defined]  # translated by the shell
    t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    t.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    t.verticalHeader().setVisible(False)
    t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    t.horizontalHeader().setMinimumSectionSize(24)
    t.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
    return t


def selected_index(t: QTableWidget, count: int) -> int | None:
    """The selected row of a single-selection table, if it is one of the `count` rows the page holds."""
    model = t.selectionModel()
    rows = model.selectedRows() if model is not None else []
    if not rows or rows[0].row() >= count:
        return None
    return rows[0].row()
