"""The check-in service: a scan event in, a visit with its queue number out.

parse → identify → check eligibility → write patient, visit, eligibility
result and outbox row in ONE transaction → return what the UI renders.
No Qt, no hardware, no SQL (kiosk.store.visits and friends hold it).

The service works on one `store.Database` (the unit of work: connection,
device data key, clock): SQLite connections belong to one thread, so each
thread that checks people in holds its own service (kiosk.app builds them).

Public API: :class:`CheckinService` (`handle(scan)`), the outcomes
:class:`Checkin` and :class:`Refusal`, :func:`visits_on`, :func:`document_of`
and :data:`DOCUMENTS`, :data:`IDENTITY_MISMATCH`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypedDict

from kiosk import documents, eligibility, store
from kiosk.clock import Clock, iso_utc, vn_date
from kiosk.documents import BhytQr, CccdQr, ParseError
from kiosk.documents.chip import ChipRead
from kiosk.domain import Eligibility, IdentityDocument, PassportIdentity, PersonIdentity, ScanEvent
from kiosk.eligibility.roster import normalise_name
from kiosk.errors import UnavailableError
from kiosk.logs import event as log_event
from kiosk.masking import mask_id
from kiosk.privacy import datakey
from kiosk.privacy.datakey import DataKey
from kiosk.services import desk
from kiosk.store import eligibility_results, outbox, visits
from kiosk.store.roster import cards as roster_cards
from kiosk.store.visits import VisitRecord

log = logging.getLogger(__name__)


class CheckinPatient(TypedDict):
    masked_id: str
    full_name: str | None
    date_of_birth: str | None
    sex: str | None
    document_kind: str


class CheckinEligibility(TypedDict):
    result_code: str | None
    benefit_percent: int | None
    reason: str | None
    source: str | None
    as_of: str | None
    card_masked: str | None


@dataclass(frozen=True)
class Checkin:
    """A visit, new or found again, in the shape the UI and `--json` use."""

    visit_id: int
    queue_number: int
    visit_date: str
    source: str
    existing: bool
    created_at: str
    clock_synced: bool
    patient: CheckinPatient
    eligibility: CheckinEligibility
    flags: list[str] = field(default_factory=list)
    ok: bool = True

    def to_json(self) -> dict[str, object]:
        return {k: getattr(self, k) for k in ("visit_id", "queue_number", "visit_date", "source", "existing",
                                              "created_at", "clock_synced", "patient", "eligibility", "flags")}


@dataclass(frozen=True)
class Refusal:
    """A scan that did not become a visit: a message key for people, a detail for technicians."""

    reason: str  # "unreadable" | "no_identity" | "storage"
    detail: str
    source: str
    ok: bool = False

    @property
    def message_key(self) -> str:
        return f"refused.{self.reason}"

    def to_json(self) -> dict[str, object]:
        return {"error": self.reason, "detail": self.detail, "source": self.source}


Outcome = Checkin | Refusal
IDENTITY_MISMATCH = "identity_mismatch"  # visit flag: a re-scan of the same number carried another name


class CheckinService:
    """Check people in on one database (one thread's connection), for one facility."""

    def __init__(self, db: store.Database, *, facility_code: str, roster_key: bytes,
                 rescan_window: timedelta = timedelta(minutes=10)):
        self.db = db
        self.facility_code = facility_code
        self.roster_key = roster_key
        self.rescan_window = rescan_window

    @property
    def data_key(self) -> DataKey | None:
        """Identity fields are sealed under it; None only in unit tests of the check-in logic (clear text)."""
        return self.db.key

    @property
    def clock(self) -> Clock:
        return self.db.clock

    def handle(self, scan: ScanEvent) -> Outcome:
        try:
            doc = scan.document if scan.document is not None else documents.parse(scan.payload)
        except ParseError as e:
            log_event(log, "scan_refused", logging.WARNING, source=scan.source, reason="unreadable",
                      field=e.field or "-", bytes=len(scan.payload))
            return Refusal("unreadable", str(e), scan.source)
        identity = doc.identity()
        try:
            identity.key
        except ValueError:
            log_event(log, "scan_refused", logging.WARNING, source=scan.source, reason="no_identity")
            return Refusal("no_identity", "document has no ID or social-insurance number", scan.source)
        try:
            return self._record(identity, scan.source, list(doc.warnings), doc)
        except (store.DatabaseError, UnavailableError) as e:
            log_event(log, "checkin_failed", logging.ERROR, source=scan.source, error=type(e).__name__)
            return Refusal("storage", str(e), scan.source)

    def _record(self, identity: PersonIdentity, source: str, warnings: list[str],
                doc: IdentityDocument | None = None) -> Checkin:
        now = self.clock.now()
        synced = self.clock.synchronised()
        today = vn_date(now)
        key = self.data_key
        with store.transaction(self.db) as tx:
            identity_key = _identity_key(identity, key)
            known = visits.find_patient(tx, identity_key)
            again = visits.latest_since(tx, known.id, iso_utc(now - self.rescan_window)) if known else None
            if known is not None and again is not None:
                visit_id, flags = again
                # A re-scan: the same visit. A different person behind the same number (a borrowed or forged
                # card, a typing slip at the desk) must not rename the visit: the first identity stays and the
                # receptionist sees the flag.
                if _same_person(identity, datakey.reveal("patients.full_name", known.full_name, key),
                                datakey.reveal("patients.date_of_birth", known.date_of_birth, key)):
                    _upsert_patient(tx, identity, identity_key, now)
                elif IDENTITY_MISMATCH not in flags:
                    visits.set_flags(tx, visit_id, [*flags, IDENTITY_MISMATCH])
                    # the hub learns it as a visit_update (contract 1.2.0)
                    desk.enqueue_update(tx, visit_id, now, identity_flags={IDENTITY_MISMATCH: True})
                    log_event(log, "checkin_identity_mismatch", logging.WARNING, visit_id=visit_id, source=source)
                visit = _load(tx, visit_id, existing=True)
                log_event(log, "checkin_existing", visit_id=visit.visit_id, queue_number=visit.queue_number,
                          source=source)
                return visit
            patient_id = _upsert_patient(tx, identity, identity_key, now)
            result = eligibility.check(roster_cards(tx), self.roster_key, identity, today, self.facility_code)
            flags = list(warnings) + ([] if synced else ["clock_unsynced"])
            queue_number = visits.next_queue_number(tx, today.isoformat())
            document = document_of(identity.document_kind, source)
            visit_id = visits.insert(tx, visits.NewVisit(
                patient_id=patient_id, visit_date=today.isoformat(), queue_number=queue_number, source=source,
                created_at=iso_utc(now), clock_synced=synced, flags=flags, document=document,
                facility_code=self.facility_code))
            eligibility_results.insert(tx, visit_id, result, now)
            payload = _upstream_payload(self.facility_code, visit_id, identity, today.isoformat(), queue_number,
                                        source, now, synced, result, document,
                                        _contract_1_2(tx, self.roster_key, identity, doc, result, flags))
            outbox.enqueue(tx, "visit", visit_id, payload, now)
            visit = _load(tx, visit_id, existing=False)
        log_event(log, "checkin_new", visit_id=visit_id, queue_number=queue_number, source=source,
                  result_code=result.result_code, clock_synced=synced)
        return visit


def _identity_key(identity: PersonIdentity, key: DataKey | None) -> str:
    # The row is found by a keyed hash of the identifier; every identity field is sealed (AES-GCM).
    if identity.id_number or identity.social_insurance_number:
        return datakey.patient_identity_key(identity.id_number, identity.social_insurance_number, key)
    # a foreigner entered by passport at the desk (kiosk.services.manual_entry): "passport:CCC:NUMBER", hashed
    return "hpp:" + key.lookup("passport", identity.key) if key is not None else identity.key


def _same_person(identity: PersonIdentity, stored_name: str | None, stored_birth: str | None) -> bool:
    """Whether a re-scan names the person already on the visit (diacritics and case aside, as the roster check).

    The MRZ of an ID card has no diacritics and cuts long names at 30 characters: a long stored name that
    the new one begins (or the other way round) is the same person. Birth dates are compared when both are full.
    """
    a, b = normalise_name(identity.full_name or ""), normalise_name(stored_name or "")
    if a and b and a != b:
        short, long_ = sorted((a, b), key=len)
        if not (len(short) >= 25 and long_.startswith(short)):
            return False
    new_birth = identity.date_of_birth or ""
    if len(new_birth) == 10 and len(stored_birth or "") == 10 and new_birth != stored_birth:
        return False
    return True


def _upsert_patient(tx: store.Tx, identity: PersonIdentity, identity_key: str, now: datetime) -> int:
    passport = identity.passport_number if isinstance(identity, PassportIdentity) else None
    masked = mask_id(identity.id_number or identity.social_insurance_number or passport)

    def seal(column: str, value: str | None) -> str | None:
        return datakey.conceal(f"patients.{column}", value, tx.key)
    # The latest document read wins for display fields; identifiers are only filled in, never erased.
    return visits.upsert_patient(tx, visits.PatientFields(
        identity_key=identity_key, document_kind=identity.document_kind,
        id_number=seal("id_number", identity.id_number),
        social_insurance_number=seal("social_insurance_number", identity.social_insurance_number),
        card_number=seal("card_number", identity.card_number), full_name=seal("full_name", identity.full_name),
        date_of_birth=seal("date_of_birth", identity.date_of_birth), sex=identity.sex,
        address=seal("address", identity.address), masked_id=masked), iso_utc(now))


# Contract 1.1.0 `document`: which document identified the visit. A phone QR and a card QR are the same payload
# and are not told apart; a chip read is `chip` whatever else the card carries; anything typed at the desk is
# `manual` (kiosk.services.manual_entry's manual_id / manual_bhyt / manual_passport).
DOCUMENTS = ("chip", "cccd_qr", "bhyt_qr", "mrz", "manual")
_DOCUMENT_OF_KIND = {"cccd_chip": "chip", "cccd_qr": "cccd_qr", "bhyt_qr": "bhyt_qr", "mrz_td1": "mrz"}


def document_of(document_kind: str | None, source: str) -> str | None:
    """The visit's `document` (one of DOCUMENTS), or None for a document kind this release does not know."""
    if source == "manual" or (document_kind or "").startswith("manual_"):
        return "manual"
    return _DOCUMENT_OF_KIND.get(document_kind or "")


def _upstream_payload(facility_code: str, visit_id: int, identity: PersonIdentity, visit_date: str,
                      queue_number: int, source: str, now: datetime, synced: bool, result: Eligibility,
                      document: str | None = None, extra: Contract12 | None = None) -> dict[str, object]:
    patient: dict[str, object] = {
        "id_number": identity.id_number, "social_insurance_number": identity.social_insurance_number,
        "card_number": identity.card_number, "full_name": identity.full_name,
        "date_of_birth": identity.date_of_birth, "sex": identity.sex}
    payload: dict[str, object] = {
        "visit_id": visit_id, "facility_code": facility_code, "visit_date": visit_date,
        "queue_number": queue_number, "source": source, "created_at": iso_utc(now), "clock_synced": synced,
        "patient": patient,
        "eligibility": {"result_code": result.result_code, "benefit_percent": result.benefit_percent,
                        "source": result.source, "as_of": result.as_of},
    } | ({"document": document} if document else {})
    if extra is not None:
        patient.update(extra.patient)
        payload |= {"services": extra.services, "identity_flags": extra.identity_flags}
        if extra.card:
            payload["card"] = extra.card
    return payload


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_CARD_FIELD = {"valid_from": _ISO_DATE, "valid_to": _ISO_DATE, "registered_facility": re.compile(r"\d{5}", re.ASCII),
               "beneficiary_group": re.compile(r"[A-Z]{2}", re.ASCII)}


@dataclass(frozen=True)
class Contract12:
    services: list[str]
    identity_flags: dict[str, bool]
    patient: dict[str, str]  # what the patient gains (the old ID number)
    card: dict[str, str]


def _contract_1_2(tx: store.Tx, roster_key: bytes, identity: PersonIdentity, doc: IdentityDocument | None,
                  result: Eligibility, flags: list[str]) -> Contract12:
    """The visit fields contract 1.2.0 adds (docs/sync.md): services (none yet: they come as visit_update),
    identity flags, the old 9-digit ID number, and the BHYT card's validity, registered primary-care facility
    (nơi ĐKKCB ban đầu) and beneficiary group — from the BHYT QR when that was the document, else from the
    roster card the eligibility answer rests on."""
    chip = doc if isinstance(doc, ChipRead) else None
    identity_flags = {"chip_verified": chip is not None and chip.passive_authentication == "verified",
                      "clone_suspected": "clone_suspected" in flags, "identity_mismatch": IDENTITY_MISMATCH in flags}
    # the old 9-digit number: on the CCCD QR, or in the chip's DG13 (a partial chip read may lack it)
    old_id = chip.fields.get("old_id_number") if chip is not None else \
        doc.old_id_number if isinstance(doc, CccdQr) else None
    patient = {"old_id_number": old_id} if (isinstance(old_id, str) and len(old_id) == 9 and old_id.isascii()
                                            and old_id.isdigit()) else {}
    card: dict[str, object] = {}
    if isinstance(doc, BhytQr):
        card = {"valid_from": doc.valid_from, "valid_to": doc.valid_to, "registered_facility": doc.facility_code,
                "beneficiary_group": doc.beneficiary_group}
    elif result.source == "roster":
        held = eligibility.matched_card(roster_cards(tx), roster_key, identity)
        if held is not None:
            card = {"valid_from": held["valid_from"], "valid_to": held["valid_to"],
                    "registered_facility": held["facility_code"], "beneficiary_group": held["beneficiary_group"]}
    # Only values the contract accepts: a roster or QR oddity must not make the hub refuse the whole visit.
    valid = {k: v for k, v in card.items() if isinstance(v, str) and _CARD_FIELD[k].fullmatch(v)}
    return Contract12([], identity_flags, patient, valid)


def _checkin(v: VisitRecord, existing: bool, key: DataKey | None) -> Checkin:
    return Checkin(
        visit_id=v.visit_id, queue_number=v.queue_number, visit_date=v.visit_date, source=v.source,
        existing=existing, created_at=v.created_at, clock_synced=v.clock_synced, flags=v.flags,
        patient={"masked_id": v.masked_id, "full_name": datakey.reveal("patients.full_name", v.full_name, key),
                 "date_of_birth": datakey.reveal("patients.date_of_birth", v.date_of_birth, key), "sex": v.sex,
                 "document_kind": v.document_kind},
        eligibility={"result_code": v.result_code, "benefit_percent": v.benefit_percent, "reason": v.reason,
                     "source": v.eligibility_source, "as_of": v.as_of, "card_masked": v.card_masked},
    )


def _load(tx: store.Tx, visit_id: int, existing: bool) -> Checkin:
    v = visits.get(tx, visit_id)
    assert v is not None, "the visit was written in this transaction"
    return _checkin(v, existing, tx.key)


def visits_on(db: store.Database, visit_date: str) -> list[Checkin]:
    """The day's visits in queue order (identity fields opened under the database's key)."""
    return [_checkin(v, False, db.key) for v in visits.on_date(db, visit_date)]
