"""The check-in service: a scan event in, a visit with its queue number out.

parse → identify → check eligibility → write patient, visit, eligibility
result and outbox row in ONE transaction → return what the UI renders.
No Qt, no hardware. Each thread gets its own SQLite connection.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable

from kiosk import documents, eligibility, store
from kiosk.privacy import datakey
from kiosk.store import outbox
from kiosk.clock import SystemClock, iso_utc, vn_date
from kiosk.documents import ParseError
from kiosk.domain import Eligibility, PersonIdentity, ScanEvent
from kiosk.errors import UnavailableError
from kiosk.logs import event as log_event
from kiosk.masking import mask_id

log = logging.getLogger(__name__)


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
    patient: dict[str, Any]
    eligibility: dict[str, Any]
    flags: list[str] = field(default_factory=list)
    ok: bool = True

    def to_json(self) -> dict[str, Any]:
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

    def to_json(self) -> dict[str, Any]:
        return {"error": self.reason, "detail": self.detail, "source": self.source}


Outcome = Checkin | Refusal
EligibilityCheck = Callable[[sqlite3.Connection, PersonIdentity, Any], Eligibility]


class CheckinService:
    def __init__(self, db_path: Path | str, *, facility_code: str, roster_key: bytes,
                 rescan_window: timedelta = timedelta(minutes=10), clock=None,
                 data_key: datakey.DataKey | None = None):
        self.db_path = Path(db_path)
        # Identity fields are sealed under the device data key (kiosk.privacy.datakey); service_from_config always
        # passes one. Without a key (unit tests of the check-in logic) they are stored in clear.
        self.data_key = data_key
        datakey.register(self.db_path, data_key)
        self.facility_code = facility_code
        self.roster_key = roster_key
        self.rescan_window = rescan_window
        self.clock = clock or SystemClock()
        self._local = threading.local()
        store.connect(self.db_path).conn.close()  # migrate once, up front

    @property
    def db(self):
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = store.connect(self.db_path, migrate_now=False)
        return db

    def handle(self, scan: ScanEvent) -> Outcome:
        try:
            doc = scan.document if scan.document is not None else documents.parse(scan.payload)
        except ParseError as e:
            log_event(log, "scan_refused", logging.WARNING, source=scan.source, reason="unreadable",
                      field=e.field or "-", bytes=len(scan.payload))
            return Refusal("unreadable", str(e), scan.source)
        identity = documents.identity_of(doc)
        try:
            identity.key
        except ValueError:
            log_event(log, "scan_refused", logging.WARNING, source=scan.source, reason="no_identity")
            return Refusal("no_identity", "document has no ID or social-insurance number", scan.source)
        try:
            return self._record(identity, scan.source, getattr(doc, "warnings", []), doc)
        except (sqlite3.Error, UnavailableError) as e:
            log_event(log, "checkin_failed", logging.ERROR, source=scan.source, error=type(e).__name__)
            return Refusal("storage", str(e), scan.source)

    def _record(self, identity: PersonIdentity, source: str, warnings: list[str], doc: Any = None) -> Checkin:
        now = self.clock.now()
        synced = self.clock.synchronised()
        today = vn_date(now)
        with store.transaction(self.db) as conn:
            since = iso_utc(now - self.rescan_window)
            known = conn.execute("SELECT id, full_name, date_of_birth FROM patients WHERE identity_key = ?",
                                 [_identity_key(identity, self.data_key)]).fetchone()
            row = known and conn.execute(
                "SELECT id, flags FROM visits WHERE patient_id = ? AND created_at >= ? AND status != 'cancelled' "
                "ORDER BY id DESC LIMIT 1", [known[0], since]).fetchone()
            if row:
                # A re-scan: the same visit. A different person behind the same number (a borrowed or forged
                # card, a typing slip at the desk) must not rename the visit: the first identity stays and the
                # receptionist sees the flag.
                if _same_person(identity, datakey.reveal("patients.full_name", known[1], self.data_key),
                                datakey.reveal("patients.date_of_birth", known[2], self.data_key)):
                    _upsert_patient(conn, identity, now, self.data_key)
                elif IDENTITY_MISMATCH not in (flags := json.loads(row[1] or "[]")):
                    conn.execute("UPDATE visits SET flags = ? WHERE id = ?",
                                 [json.dumps([*flags, IDENTITY_MISMATCH]), row[0]])
                    from kiosk.services import desk  # the hub learns it as a visit_update (contract 1.2.0)
                    desk.enqueue_update(conn, row[0], now, identity_flags={IDENTITY_MISMATCH: True})
                    log_event(log, "checkin_identity_mismatch", logging.WARNING, visit_id=row[0], source=source)
                visit = _load(conn, row[0], existing=True)
                log_event(log, "checkin_existing", visit_id=visit.visit_id, queue_number=visit.queue_number,
                          source=source)
                return visit
            patient_id = _upsert_patient(conn, identity, now, self.data_key)
            result = eligibility.check(conn, self.roster_key, identity, today, self.facility_code)
            flags = list(warnings) + ([] if synced else ["clock_unsynced"])
            (queue_number,) = conn.execute(
                "SELECT coalesce(max(queue_number), 0) + 1 FROM visits WHERE visit_date = ?",
                [today.isoformat()]).fetchone()
            document = document_of(identity.document_kind, source)
            cur = conn.execute(
                "INSERT INTO visits(patient_id, visit_date, queue_number, source, created_at, clock_synced, flags, "
                "document, facility_code) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [patient_id, today.isoformat(), queue_number, source, iso_utc(now), int(synced), json.dumps(flags),
                 document, self.facility_code])
            visit_id = cur.lastrowid
            conn.execute(
                "INSERT INTO eligibility_results(visit_id, result_code, benefit_percent, reason, source, as_of, "
                "card_masked, details, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [visit_id, result.result_code, result.benefit_percent, result.reason, result.source, result.as_of,
                 result.card_number, json.dumps(result.details), iso_utc(now)])
            payload = _upstream_payload(self.facility_code, visit_id, identity, today.isoformat(), queue_number,
                                        source, now, synced, result, document)
            extra = _contract_1_2(conn, self.roster_key, identity, doc, result, flags)
            payload["patient"] |= extra.pop("patient", {})
            outbox.enqueue(conn, "visit", visit_id, payload | extra, now)
            visit = _load(conn, visit_id, existing=False)
        log_event(log, "checkin_new", visit_id=visit_id, queue_number=queue_number, source=source,
                  result_code=result.result_code, clock_synced=synced)
        return visit


IDENTITY_MISMATCH = "identity_mismatch"  # visit flag: a re-scan of the same number carried another name


def _identity_key(identity: PersonIdentity, key: datakey.DataKey | None) -> str:
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
    from kiosk.eligibility.roster import normalise_name
    a, b = normalise_name(identity.full_name or ""), normalise_name(stored_name or "")
    if a and b and a != b:
        short, long_ = sorted((a, b), key=len)
        if not (len(short) >= 25 and long_.startswith(short)):
            return False
    new_birth = identity.date_of_birth or ""
    if len(new_birth) == 10 and len(stored_birth or "") == 10 and new_birth != stored_birth:
        return False
    return True


def _upsert_patient(conn: sqlite3.Connection, identity: PersonIdentity, now: datetime,
                    key: datakey.DataKey | None = None) -> int:
    masked = mask_id(identity.id_number or identity.social_insurance_number or getattr(identity, "passport_number", None))
    stamp = iso_utc(now)
    identity_key = _identity_key(identity, key)

    def seal(column: str, value):
        return datakey.conceal(f"patients.{column}", value, key)
    # The latest document read wins for display fields; identifiers are only filled in, never erased.
    conn.execute(
        "INSERT INTO patients(identity_key, document_kind, id_number, social_insurance_number, card_number, "
        "full_name, date_of_birth, sex, address, masked_id, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(identity_key) DO UPDATE SET document_kind = excluded.document_kind, "
        "full_name = excluded.full_name, date_of_birth = coalesce(excluded.date_of_birth, date_of_birth), "
        "sex = coalesce(excluded.sex, sex), address = coalesce(excluded.address, address), "
        "social_insurance_number = coalesce(excluded.social_insurance_number, social_insurance_number), "
        "card_number = coalesce(excluded.card_number, card_number), updated_at = excluded.updated_at",
        [identity_key, identity.document_kind, seal("id_number", identity.id_number),
         seal("social_insurance_number", identity.social_insurance_number), seal("card_number", identity.card_number),
         seal("full_name", identity.full_name), seal("date_of_birth", identity.date_of_birth), identity.sex,
         seal("address", identity.address), masked, stamp, stamp])
    return conn.execute("SELECT id FROM patients WHERE identity_key = ?", [identity_key]).fetchone()[0]


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
                      document: str | None = None) -> dict:
    return {
        "visit_id": visit_id, "facility_code": facility_code, "visit_date": visit_date,
        "queue_number": queue_number, "source": source, "created_at": iso_utc(now), "clock_synced": synced,
        "patient": {"id_number": identity.id_number, "social_insurance_number": identity.social_insurance_number,
                    "card_number": identity.card_number, "full_name": identity.full_name,
                    "date_of_birth": identity.date_of_birth, "sex": identity.sex},
        "eligibility": {"result_code": result.result_code, "benefit_percent": result.benefit_percent,
                        "source": result.source, "as_of": result.as_of},
    } | ({"document": document} if document else {})


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_CARD_FIELD = {"valid_from": _ISO_DATE, "valid_to": _ISO_DATE, "registered_facility": re.compile(r"\d{5}", re.ASCII),
               "beneficiary_group": re.compile(r"[A-Z]{2}", re.ASCII)}


def _contract_1_2(conn: sqlite3.Connection, roster_key: bytes, identity: PersonIdentity, doc: Any,
                  result: Eligibility, flags: list[str]) -> dict:
    """The visit fields contract 1.2.0 adds (docs/sync.md): services (none yet: they come as visit_update),
    identity flags, the old 9-digit ID number, and the BHYT card's validity, registered primary-care facility
    (nơi ĐKKCB ban đầu) and beneficiary group — from the BHYT QR when that was the document, else from the
    roster card the eligibility answer rests on."""
    chip = getattr(doc, "kind", None) == "cccd_chip"
    out: dict[str, Any] = {"services": [], "identity_flags": {
        "chip_verified": chip and getattr(doc, "passive_authentication", None) == "verified",
        "clone_suspected": "clone_suspected" in flags,
        "identity_mismatch": IDENTITY_MISMATCH in flags}}
    fields = getattr(doc, "fields", None) if chip else None   # a partial chip read may lack DG13
    old_id = fields.get("old_id_number") if isinstance(fields, dict) else getattr(doc, "old_id_number", None)
    if isinstance(old_id, str) and len(old_id) == 9 and old_id.isascii() and old_id.isdigit():
        out["patient"] = {"old_id_number": old_id}
    card: dict[str, Any] = {}
    if getattr(doc, "kind", None) == "bhyt_qr":
        card = {"valid_from": doc.valid_from, "valid_to": doc.valid_to, "registered_facility": doc.facility_code,
                "beneficiary_group": doc.beneficiary_group}
    elif result.source == "roster":
        held = eligibility.matched_card(conn, roster_key, identity) or {}
        card = {"valid_from": held.get("valid_from"), "valid_to": held.get("valid_to"),
                "registered_facility": held.get("facility_code"), "beneficiary_group": held.get("beneficiary_group")}
    # Only values the contract accepts: a roster or QR oddity must not make the hub refuse the whole visit.
    card = {k: v for k, v in card.items() if isinstance(v, str) and _CARD_FIELD[k].fullmatch(v)}
    if card:
        out["card"] = card
    return out


_VISIT_SQL = """
SELECT v.id, v.queue_number, v.visit_date, v.source, v.created_at, v.clock_synced, v.flags, v.status,
       p.masked_id, p.full_name, p.date_of_birth, p.sex, p.document_kind,
       e.result_code, e.benefit_percent, e.reason, e.source, e.as_of, e.card_masked
FROM visits v JOIN patients p ON p.id = v.patient_id
LEFT JOIN eligibility_results e ON e.id = (SELECT max(id) FROM eligibility_results WHERE visit_id = v.id)
"""


def _from_row(r: tuple, existing: bool) -> Checkin:
    return Checkin(
        visit_id=r[0], queue_number=r[1], visit_date=r[2], source=r[3], existing=existing, created_at=r[4],
        clock_synced=bool(r[5]), flags=json.loads(r[6]),
        patient={"masked_id": r[8], "full_name": datakey.reveal("patients.full_name", r[9]),
                 "date_of_birth": datakey.reveal("patients.date_of_birth", r[10]), "sex": r[11],
                 "document_kind": r[12]},
        eligibility={"result_code": r[13], "benefit_percent": r[14], "reason": r[15], "source": r[16],
                     "as_of": r[17], "card_masked": r[18]},
    )


def _load(conn: sqlite3.Connection, visit_id: int, existing: bool) -> Checkin:
    return _from_row(conn.execute(_VISIT_SQL + " WHERE v.id = ?", [visit_id]).fetchone(), existing)


def visits_on(conn: sqlite3.Connection, visit_date: str) -> list[Checkin]:
    rows = conn.execute(_VISIT_SQL + " WHERE v.visit_date = ? ORDER BY v.queue_number", [visit_date]).fetchall()
    return [_from_row(r, existing=False) for r in rows]


def service_from_config(cfg, clock=None) -> CheckinService:
    """The check-in service as configured (database, facility, roster key, re-scan window)."""
    from kiosk.eligibility import roster
    key = datakey.load(cfg)  # refuses on a wiped device, or with a key that is not this database's
    db = store.connect(cfg.database)
    try:
        datakey.bind(db.conn, key)
    finally:
        db.conn.close()
    return CheckinService(cfg.database, facility_code=cfg["facility.code"],
                          roster_key=roster.load_key(cfg["roster.key_file"]),
                          rescan_window=timedelta(minutes=cfg["checkin.rescan_window_minutes"]), clock=clock,
                          data_key=key)
