"""Domain types shared by the core, drivers, UI and sync. No I/O here."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

SOURCES = ("serial", "camera", "chip", "manual", "hid")


@dataclass(frozen=True)
class ScanEvent:
    """What a driver hands the core: the raw bytes it read and where they came from.

    `document` is set by sources that already hold a parsed document (a chip
    read); everything else is parsed by the core from `payload`.
    """

    payload: bytes
    source: str = "serial"
    received_at: datetime | None = None
    document: Any = None

    def __post_init__(self) -> None:
        if self.source not in SOURCES:
            raise ValueError(f"unknown scan source {self.source!r}")


@dataclass(frozen=True)
class PersonIdentity:
    """A person as read from the document they presented (never from the roster)."""

    document_kind: str
    full_name: str
    date_of_birth: str | None  # ISO date, or "YYYY" when only the year is known
    sex: str | None = None  # "male" | "female"
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
class Eligibility:
    result_code: str
    benefit_percent: int | None
    reason: str
    source: str  # "roster" | "gateway" | "none"
    as_of: str | None  # ISO date of the roster, or ISO time of an online answer
    card_number: str | None = None  # masked card the answer is about
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def usable(self) -> bool:
        return self.result_code in {"000", "001", "002", "003", "004"}

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
