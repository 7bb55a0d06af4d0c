"""Domain types shared by the core, drivers, UI and sync. No I/O here.

The document types themselves live in kiosk.documents (which imports this
module); what the other layers need to hold a document without naming every
kind is the `IdentityDocument` protocol below, so this module imports nothing
from the rest of the kiosk and the layers stay acyclic.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Literal, Protocol, get_args

ScanSourceName = Literal["serial", "camera", "chip", "manual", "hid"]
SOURCES: tuple[ScanSourceName, ...] = get_args(ScanSourceName)


class IdentityDocument(Protocol):
    """Any document a person presents: the parsed QR and MRZ kinds, a chip read, a form typed at the desk.

    Read-only members, so frozen dataclasses (fields or properties) satisfy it.
    """

    @property
    def kind(self) -> str: ...

    @property
    def warnings(self) -> list[str]: ...  # consistency codes, recorded as flags on the visit

    def identity(self) -> PersonIdentity: ...


@dataclass(frozen=True)
class ScanEvent:
    """What a driver hands the core: the raw bytes it read and where they came from.

    `document` is set by sources that already hold a parsed document (a chip
    read, a desk form); everything else is parsed by the core from `payload`.
    """

    payload: bytes
    source: ScanSourceName = "serial"
    received_at: datetime | None = None
    document: IdentityDocument | None = None

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"unknown scan source {self.source!r}")


@dataclass(frozen=True)
class PersonIdentity:
    """A person as read from the document they presented (never from the roster)."""

    document_kind: str
    full_name: str
    date_of_birth: str | None  # ISO date, or "YYYY" when only the year is known
    sex: str | None = None  # "male" | "female" (a chip may carry other text: kept as read)
    id_number: str | None = None  # 12-digit personal identification number
    social_insurance_number: str | None = None  # 10-digit BHXH number
    card_number: str | None = None  # BHYT card code as printed (15 chars or 10 digits)
    address: str | None = None

    @property
    def key(self) -> str:
        """Stable key for the patient row: the ID number when known, else the BHXH number."""
        if self.id_number:
            return f"id:{self.id_number}"
        if self.social_insurance_number:
            return f"bhxh:{self.social_insurance_number}"
        raise ValueError("identity has neither an ID number nor a social-insurance number")


@dataclass(frozen=True)
class PassportIdentity(PersonIdentity):
    """A foreigner identified by passport (typed at the desk): keyed by nationality and number, no Vietnamese ID."""

    passport_number: str = ""
    nationality: str = ""

    @property
    def key(self) -> str:
        return f"passport:{self.nationality}:{self.passport_number}"


EligibilitySource = Literal["roster", "gateway", "none"]


@dataclass(frozen=True)
class Eligibility:
    """An eligibility answer. `details` is the JSON the answer's source gave (roster rules or the gateway):
    stored and shown as it is, never branched on, so it stays a plain JSON object."""

    result_code: str
    benefit_percent: int | None
    reason: str
    source: EligibilitySource
    as_of: str | None  # ISO date of the roster, or ISO time of an online answer
    card_number: str | None = None  # masked card the answer is about
    details: dict[str, object] = field(default_factory=dict)

    @property
    def usable(self) -> bool:
        return self.result_code in {"000", "001", "002", "003", "004"}

    def to_json(self) -> dict[str, object]:
        return asdict(self)


@dataclass(frozen=True)
class Ticket:
    """What goes on paper: no name and no ID number — a ticket is left on chairs and floors.

    A value the ticket service builds and any printer renders; it lives here so
    services and UI need not import a driver to make one.
    """

    facility: str
    queue_number: int
    service: str  # the service label in the ticket's language
    issued_at: str  # already formatted local time, e.g. "26/11/2026 08:05"
    heading: str = "Số thứ tự"
    footer: str = ""
