"""Manual entry at the desk when a card cannot be read: the same field rules as the parsers.

`manual_document(...)` validates what the receptionist typed into a document
the check-in service takes (`ScanEvent(source="manual", document=...)`); the
visit is flagged `manual_entry` (and `foreign_passport` for a passport, whose
identity is kiosk.domain's `PassportIdentity`). :func:`check_in` is the
console's one step: the check-in, then who typed it in the visit's change
log. No Qt, no SQL.

Public API: :func:`check_in`, :func:`manual_document`, :class:`ManualDocument`,
:data:`KINDS`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kiosk.documents import fields as F
from kiosk.documents.errors import ParseError
from kiosk.domain import PassportIdentity, PersonIdentity, ScanEvent
from kiosk.services import desk
from kiosk.services.checkin import CheckinService, Outcome, Refusal

KINDS = ("id_number", "bhyt", "passport")
# ASCII only: what was typed is NFKC-normalised first (full-width → ASCII), then anything else
# (Arabic-Indic ٠١٢, other scripts' digits) is refused, never stored as a second person.
_ID12 = re.compile(r"[0-9]{12}", re.ASCII)
_BHYT15 = re.compile(r"[A-Z]{2}[1-5][0-9]{12}", re.ASCII)
_BHXH10 = re.compile(r"[0-9]{10}", re.ASCII)
_PASSPORT = re.compile(r"[A-Z0-9]{6,9}", re.ASCII)
_COUNTRY = re.compile(r"[A-Z]{3}", re.ASCII)


@dataclass(frozen=True)
class ManualDocument:
    kind: str
    number: str
    full_name: str
    date_of_birth: str | None
    sex: str | None
    nationality: str | None = None
    warnings: list[str] = field(default_factory=list)

    def identity(self) -> PersonIdentity:
        name, dob, sex = self.full_name, self.date_of_birth, self.sex
        if self.kind == "id_number":
            return PersonIdentity("manual_id", name, dob, sex, id_number=self.number)
        if self.kind == "bhyt":
            if len(self.number) == 15:
                return PersonIdentity("manual_bhyt", name, dob, sex, card_number=self.number,
                                      social_insurance_number=self.number[-10:])
            return PersonIdentity("manual_bhyt", name, dob, sex, social_insurance_number=self.number)
        return PassportIdentity("manual_passport", name, dob, sex, passport_number=self.number,
                                nationality=self.nationality or "")


def manual_document(kind: str, number: str, full_name: str, date_of_birth: str = "", sex: str = "",
                    nationality: str = "") -> ManualDocument:
    """Validate what the receptionist typed; ParseError names the field that is wrong."""
    if kind not in KINDS:
        raise ParseError(f"kind: expected one of {', '.join(KINDS)}", "kind")
    number = "".join(F.typed(number).split()).upper()
    name = F.name(full_name or "", "full_name")
    date_of_birth = F.typed(date_of_birth).strip()
    dob = F.dd_mm_yyyy(date_of_birth, "date_of_birth") if date_of_birth else None
    sex_value = {"male": "male", "female": "female", "nam": "male", "nữ": "female", "": None}.get(
        (sex or "").strip().casefold(), "?")
    if sex_value == "?":
        raise ParseError("sex: expected male or female", "sex")
    warnings = ["manual_entry"]
    if kind == "id_number":
        if not _ID12.fullmatch(number):
            raise ParseError(f"id_number: expected 12 digits, got {F.shape(number) or 'nothing'}", "id_number")
        warnings += F.id_warnings(number, dob, sex_value)
    elif kind == "bhyt":
        if not (_BHYT15.fullmatch(number) or _BHXH10.fullmatch(number)):
            raise ParseError("card_number: expected 15 characters (2 letters, then 13 digits) or a 10-digit "
                             f"social-insurance number, got {F.shape(number) or 'nothing'}", "card_number")
    else:
        nat = F.typed(nationality).strip().upper()
        if not _PASSPORT.fullmatch(number):
            raise ParseError(f"passport_number: expected 6 to 9 letters or digits, got {F.shape(number) or 'nothing'}",
                             "passport_number")
        if not _COUNTRY.fullmatch(nat):
            raise ParseError("nationality: expected a 3-letter country code (ICAO), e.g. FRA", "nationality")
        warnings.append("foreign_passport")
        return ManualDocument(kind, number, name, dob, sex_value, nat, warnings)
    return ManualDocument(kind, number, name, dob, sex_value, None, warnings)


def check_in(checkin: CheckinService, document: ManualDocument, staff_id: int | None) -> Outcome:
    """Check in what the receptionist typed and record who typed it ("manual_entry" in the visit's change log).

    Two transactions, one after the other on the check-in service's database: `CheckinService.handle` opens
    its own (the visit, its eligibility answer and its outbox row commit together, and a storage failure
    comes back as a Refusal, not an exception), and it cannot join a caller's. Should the second write fail,
    the visit stands, already flagged `manual_entry`; the error reaches the console, and typing it again
    within the re-scan window finds the same visit and writes the line then.
    A refusal is returned as it is, with nothing recorded.
    """
    outcome = checkin.handle(ScanEvent(b"", "manual", document=document))
    if isinstance(outcome, Refusal):
        return outcome
    desk.record_change(checkin.db, outcome.visit_id, staff_id, "manual_entry", field="kind", new=document.kind)
    return outcome
