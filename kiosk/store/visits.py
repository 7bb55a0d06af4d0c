"""Visits and what hangs off them: queue numbers, states, services, the desk's change log and exports.

The only module with SQL on `visits`, `visit_services`, `visit_changes` and
`desk_exports`; also the patient row as a check-in finds and writes it
(kiosk.store.patients reads a person's rows for access requests and erasure;
kiosk.store.eligibility_results holds the eligibility answers). Values come and go as stored: identity fields are sealed
under the device data key by the services (kiosk.services.checkin, desk),
which open what they show; nothing here looks at a key. Writers take a
`Tx` (inside the caller's transaction, so a visit, its services and its
outbox row commit together); readers take a `Database` or a `Tx`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Sequence  # Any: a row as sqlite3 returns it, typed field by field below

from kiosk.store.connection import Executor as Reader  # a Database, or a Tx inside a transaction
from kiosk.store.connection import Tx


@dataclass(frozen=True)
class NewVisit:
    patient_id: int
    visit_date: str
    queue_number: int
    source: str
    created_at: str
    clock_synced: bool
    flags: list[str]
    document: str | None
    facility_code: str


@dataclass(frozen=True)
class VisitRecord:
    """A visit with its patient (identity fields as stored: sealed) and its latest eligibility answer."""

    visit_id: int
    queue_number: int
    visit_date: str
    source: str
    created_at: str
    clock_synced: bool
    flags: list[str]
    status: str
    masked_id: str
    full_name: str | None
    date_of_birth: str | None
    sex: str | None
    document_kind: str
    result_code: str | None
    benefit_percent: int | None
    reason: str | None
    eligibility_source: str | None
    as_of: str | None
    card_masked: str | None


_VISIT_SQL = """
SELECT v.id, v.queue_number, v.visit_date, v.source, v.created_at, v.clock_synced, v.flags, v.status,
       p.masked_id, p.full_name, p.date_of_birth, p.sex, p.document_kind,
       e.result_code, e.benefit_percent, e.reason, e.source, e.as_of, e.card_masked
FROM visits v JOIN patients p ON p.id = v.patient_id
LEFT JOIN eligibility_results e ON e.id = (SELECT max(id) FROM eligibility_results WHERE visit_id = v.id)
"""


def _visit(r: Sequence[Any]) -> VisitRecord:
    return VisitRecord(visit_id=r[0], queue_number=r[1], visit_date=r[2], source=r[3], created_at=r[4],
                       clock_synced=bool(r[5]), flags=json.loads(r[6] or "[]"), status=r[7], masked_id=r[8],
                       full_name=r[9], date_of_birth=r[10], sex=r[11], document_kind=r[12], result_code=r[13],
                       benefit_percent=r[14], reason=r[15], eligibility_source=r[16], as_of=r[17], card_masked=r[18])


def get(db: Reader, visit_id: int) -> VisitRecord | None:
    r = db.execute(_VISIT_SQL + " WHERE v.id = ?", [visit_id]).fetchone()
    return None if r is None else _visit(r)


def on_date(db: Reader, visit_date: str) -> list[VisitRecord]:
    rows = db.execute(_VISIT_SQL + " WHERE v.visit_date = ? ORDER BY v.queue_number", [visit_date]).fetchall()
    return [_visit(r) for r in rows]


def latest_since(db: Reader, patient_id: int, since: str) -> tuple[int, list[str]] | None:
    """(visit id, flags) of the patient's latest visit created at or after `since`, cancelled ones aside."""
    r = db.execute("SELECT id, flags FROM visits WHERE patient_id = ? AND created_at >= ? AND status != 'cancelled' "
                   "ORDER BY id DESC LIMIT 1", [patient_id, since]).fetchone()
    return None if r is None else (int(r[0]), list(json.loads(r[1] or "[]")))


def set_flags(tx: Tx, visit_id: int, flags: list[str]) -> None:
    tx.execute("UPDATE visits SET flags = ? WHERE id = ?", [json.dumps(flags), visit_id])


def next_queue_number(tx: Tx, visit_date: str) -> int:
    (n,) = tx.execute("SELECT coalesce(max(queue_number), 0) + 1 FROM visits WHERE visit_date = ?",
                      [visit_date]).fetchone()
    return int(n)


def insert(tx: Tx, v: NewVisit) -> int:
    cur = tx.execute(
        "INSERT INTO visits(patient_id, visit_date, queue_number, source, created_at, clock_synced, flags, "
        "document, facility_code) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [v.patient_id, v.visit_date, v.queue_number, v.source, v.created_at, int(v.clock_synced),
         json.dumps(v.flags), v.document, v.facility_code])
    return int(cur.lastrowid or 0)


def id_by_number(db: Reader, visit_date: str, queue_number: int) -> int | None:
    r = db.execute("SELECT id FROM visits WHERE visit_date = ? AND queue_number = ?",
                   [visit_date, queue_number]).fetchone()
    return None if r is None else int(r[0])


def without_stay(db: Reader, limit: int) -> list[int]:
    """The first visits whose patient has an ID number on file and that have no stay notification yet."""
    return [int(r[0]) for r in db.execute(
        "SELECT v.id FROM visits v JOIN patients p ON p.id = v.patient_id WHERE p.id_number IS NOT NULL AND NOT "
        "EXISTS (SELECT 1 FROM stay_notifications s WHERE s.visit_id = v.id) ORDER BY v.id LIMIT ?", [limit])]


def count_on(db: Reader, visit_date: str) -> int:
    (n,) = db.execute("SELECT count(*) FROM visits WHERE visit_date = ?", [visit_date]).fetchone()
    return int(n)


# --- the patient a check-in finds and writes -------------------------------------

@dataclass(frozen=True)
class KnownPatient:
    id: int
    full_name: str | None  # as stored (sealed)
    date_of_birth: str | None


def find_patient(db: Reader, identity_key: str) -> KnownPatient | None:
    r = db.execute("SELECT id, full_name, date_of_birth FROM patients WHERE identity_key = ?",
                   [identity_key]).fetchone()
    return None if r is None else KnownPatient(int(r[0]), r[1], r[2])


@dataclass(frozen=True)
class PatientFields:
    """A patient row as a document states it; identity fields already sealed by the caller."""

    identity_key: str
    document_kind: str
    id_number: str | None
    social_insurance_number: str | None
    card_number: str | None
    full_name: str | None
    date_of_birth: str | None
    sex: str | None
    address: str | None
    masked_id: str


def upsert_patient(tx: Tx, p: PatientFields, at: str) -> int:
    """Insert or update the patient; returns its id. The latest document wins for display fields;
    identifiers are only filled in, never erased."""
    tx.execute(
        "INSERT INTO patients(identity_key, document_kind, id_number, social_insurance_number, card_number, "
        "full_name, date_of_birth, sex, address, masked_id, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(identity_key) DO UPDATE SET document_kind = excluded.document_kind, "
        "full_name = excluded.full_name, date_of_birth = coalesce(excluded.date_of_birth, date_of_birth), "
        "sex = coalesce(excluded.sex, sex), address = coalesce(excluded.address, address), "
        "social_insurance_number = coalesce(excluded.social_insurance_number, social_insurance_number), "
        "card_number = coalesce(excluded.card_number, card_number), updated_at = excluded.updated_at",
        [p.identity_key, p.document_kind, p.id_number, p.social_insurance_number, p.card_number, p.full_name,
         p.date_of_birth, p.sex, p.address, p.masked_id, at, at])
    return int(tx.execute("SELECT id FROM patients WHERE identity_key = ?", [p.identity_key]).fetchone()[0])


# --- the desk's queue ------------------------------------------------------------------------------

@dataclass(frozen=True)
class QueueRecord:
    """A queue line as stored (the name sealed); kiosk.services.desk opens it into a QueueRow."""

    visit_id: int
    queue_number: int
    status: str
    source: str
    created_at: str
    full_name: str | None
    masked_id: str
    document_kind: str
    result_code: str | None
    benefit_percent: int | None
    eligibility_source: str | None
    flags: list[str] = field(default_factory=list)
    services: list[str] = field(default_factory=list)


_QUEUE_SQL = """
SELECT v.id, v.queue_number, v.status, v.source, v.created_at, p.full_name, p.masked_id, p.document_kind,
       e.result_code, e.benefit_percent, e.source, v.flags,
       (SELECT group_concat(service, ',') FROM (SELECT service FROM visit_services s WHERE s.visit_id = v.id
                                                ORDER BY s.id))
FROM visits v JOIN patients p ON p.id = v.patient_id
LEFT JOIN eligibility_results e ON e.id = (SELECT max(id) FROM eligibility_results WHERE visit_id = v.id)
"""


def _queue(r: Sequence[Any]) -> QueueRecord:
    return QueueRecord(visit_id=r[0], queue_number=r[1], status=r[2], source=r[3], created_at=r[4], full_name=r[5],
                       masked_id=r[6], document_kind=r[7], result_code=r[8], benefit_percent=r[9],
                       eligibility_source=r[10], flags=json.loads(r[11] or "[]"),
                       services=[s for s in (r[12] or "").split(",") if s])


def queue_on(db: Reader, visit_date: str) -> list[QueueRecord]:
    rows = db.execute(_QUEUE_SQL + " WHERE v.visit_date = ? ORDER BY v.queue_number", [visit_date]).fetchall()
    return [_queue(r) for r in rows]


def queue_line(db: Reader, visit_id: int) -> QueueRecord | None:
    r = db.execute(_QUEUE_SQL + " WHERE v.id = ?", [visit_id]).fetchone()
    return None if r is None else _queue(r)


def ids_with_identity(db: Reader, visit_date: str, identity_keys: list[str]) -> set[int]:
    """The day's visits whose patient has one of `identity_keys`."""
    marks = ",".join("?" * len(identity_keys))
    return {int(r[0]) for r in db.execute(
        "SELECT v.id FROM visits v JOIN patients p ON p.id = v.patient_id WHERE v.visit_date = ? AND "
        f"p.identity_key IN ({marks})", [visit_date, *identity_keys])}


def first_waiting(db: Reader, visit_date: str, service: str | None = None) -> int | None:
    """The lowest-numbered waiting visit of the day (with `service`, if given)."""
    sql = "SELECT v.id FROM visits v WHERE v.visit_date = ? AND v.status = 'waiting'"
    args: list[object] = [visit_date]
    if service:
        sql += " AND EXISTS (SELECT 1 FROM visit_services s WHERE s.visit_id = v.id AND s.service = ?)"
        args.append(service)
    r = db.execute(sql + " ORDER BY v.queue_number LIMIT 1", args).fetchone()
    return None if r is None else int(r[0])


def set_status(tx: Tx, visit_id: int, status: str) -> None:
    tx.execute("UPDATE visits SET status = ? WHERE id = ?", [status, visit_id])


def add_service(tx: Tx, visit_id: int, service: str, staff_id: int | None, at: str) -> bool:
    """True when the service was new for this visit."""
    cur = tx.execute("INSERT OR IGNORE INTO visit_services(visit_id, service, added_by, added_at) "
                     "VALUES (?, ?, ?, ?)", [visit_id, service, staff_id, at])
    return bool(cur.rowcount)


def services_of(db: Reader, visit_id: int) -> list[str]:
    return [str(r[0]) for r in db.execute("SELECT service FROM visit_services WHERE visit_id = ? ORDER BY id",
                                          [visit_id])]


@dataclass(frozen=True)
class UpdateState:
    """What a visit_update carries: the visit's update number (just raised), state and facility."""

    seq: int
    state: str
    facility_code: str | None


def next_update(tx: Tx, visit_id: int) -> UpdateState:
    """Raise the visit's update number (1, 2, … per visit) and return it with the visit's state."""
    tx.execute("UPDATE visits SET update_seq = update_seq + 1 WHERE id = ?", [visit_id])
    seq, state, facility = tx.execute("SELECT update_seq, status, facility_code FROM visits WHERE id = ?",
                                      [visit_id]).fetchone()
    return UpdateState(int(seq), str(state), facility)


@dataclass(frozen=True)
class PatientField:
    patient_id: int
    value: str | None  # as stored (sealed for identity fields)


def patient_field(db: Reader, visit_id: int, column: str) -> PatientField | None:
    """One field of the visit's patient (`column` is one of the desk's correctable fields, checked by the caller)."""
    r = db.execute(f"SELECT p.id, p.{_column(column)} FROM visits v JOIN patients p ON p.id = v.patient_id "
                   "WHERE v.id = ?", [visit_id]).fetchone()
    return None if r is None else PatientField(int(r[0]), r[1])


def set_patient_field(tx: Tx, patient_id: int, column: str, stored: str | None, at: str) -> None:
    tx.execute(f"UPDATE patients SET {_column(column)} = ?, updated_at = ? WHERE id = ?", [stored, at, patient_id])


_CORRECTABLE_COLUMNS = ("full_name", "date_of_birth", "sex")


def _column(name: str) -> str:
    if name not in _CORRECTABLE_COLUMNS:  # never a column name from outside this list into the SQL text
        raise ValueError(f"not a correctable patient column: {name!r}")
    return name


def record_change(tx: Tx, visit_id: int, staff_id: int | None, action: str, at: str, field_: str | None = None,
                  old: str | None = None, new: str | None = None) -> None:
    tx.execute("INSERT INTO visit_changes(visit_id, staff_id, action, field, old_value, new_value, at) "
               "VALUES (?, ?, ?, ?, ?, ?, ?)", [visit_id, staff_id, action, field_, old, new, at])


@dataclass(frozen=True)
class ChangeRecord:
    action: str
    field: str | None
    new_value: str | None  # as stored (sealed for identity fields)
    at: str
    staff: str | None


def changes(db: Reader, visit_id: int) -> list[ChangeRecord]:
    rows = db.execute("SELECT c.action, c.field, c.new_value, c.at, s.full_name FROM visit_changes c "
                      "LEFT JOIN staff s ON s.id = c.staff_id WHERE c.visit_id = ? ORDER BY c.id", [visit_id])
    return [ChangeRecord(*r) for r in rows]


def record_export(tx: Tx, staff_id: int, kind: str, visit_date: str, rows: int, path: str, at: str) -> None:
    tx.execute("INSERT INTO desk_exports(staff_id, kind, visit_date, rows, path, at) VALUES (?, ?, ?, ?, ?, ?)",
               [staff_id, kind, visit_date, rows, path, at])
