"""The front desk: today's queue, visit states, services, corrections, end-of-day counts, export.

Every change made from the console is written to `visit_changes` with the
staff member who made it, and to the audit trail (kiosk.privacy.audit) when the
access touches personal data (views, prints, exports, corrections). No Qt, no
SQL (kiosk.store.visits holds it).

Each public function takes a unit of work (kiosk.services: a `store.Database`
whose key opens and seals identity fields and whose clock stamps the change,
or a `store.Tx` to join the caller's transaction); `now` defaults to its clock:

- reading: :func:`queue_for`, :func:`get_row`, :func:`visit_by_number`, :func:`changes`, :func:`end_of_day`
  (a :class:`DayCounts`)
- queue: :func:`change_state`, :func:`call_next`
- visits: :func:`add_service`, :func:`correct`, :func:`record_change`
- access: :func:`record_print`, :func:`record_view`, :func:`export_csv`
- helpers: :func:`parse_services`, :func:`bhyt_answer`, :data:`STATES`, :data:`TRANSITIONS`

:func:`enqueue_update` is the one step other services call inside their own
transaction (a `store.Tx`): the visit_update the hub receives.
"""

from __future__ import annotations

import csv
import logging
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from kiosk import store
from kiosk.clock import iso_utc
from kiosk.errors import ReasonError
from kiosk.logs import event
from kiosk.privacy import audit, datakey
from kiosk.privacy.datakey import DataKey
from kiosk.services import UnitOfWork, now_of, transaction
from kiosk.store import outbox, visits
from kiosk.store.visits import QueueRecord

log = logging.getLogger(__name__)

STATES = ("waiting", "being_seen", "done", "left", "cancelled")
# Which state a visit may move to from each state (corrections can also undo a mistaken "left").
TRANSITIONS = {
    "waiting": {"being_seen", "left", "cancelled"},
    "being_seen": {"done", "waiting", "left", "cancelled"},
    "done": {"being_seen"},
    "left": {"waiting"},
    "cancelled": {"waiting"},
}
CORRECTABLE = ("full_name", "date_of_birth", "sex")


class DeskError(ReasonError):
    """A refused desk action (queue state change, correction, service)."""


@dataclass(frozen=True)
class Service:
    code: str
    vi: str
    en: str

    def label(self, lang: str) -> str:
        return self.en if lang == "en" else self.vi


def parse_services(entries: list[str]) -> list[Service]:
    """Config form: "code|Vietnamese label|English label"."""
    out = []
    for e in entries:
        code, vi, en = (e.split("|") + ["", ""])[:3]
        out.append(Service(code.strip(), vi.strip() or code.strip(), en.strip() or vi.strip() or code.strip()))
    return out


@dataclass(frozen=True)
class QueueRow:
    visit_id: int
    queue_number: int
    status: str
    source: str
    created_at: str
    full_name: str
    masked_id: str
    document_kind: str
    result_code: str | None
    benefit_percent: int | None
    eligibility_source: str | None
    services: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Change:
    """One line of a visit's change log, values opened."""

    action: str
    field: str | None
    new_value: str | None
    at: str
    staff: str | None


def _row(r: QueueRecord, key: DataKey | None) -> QueueRow:
    return QueueRow(visit_id=r.visit_id, queue_number=r.queue_number, status=r.status, source=r.source,
                    created_at=r.created_at, full_name=datakey.reveal("patients.full_name", r.full_name, key) or "",
                    masked_id=r.masked_id, document_kind=r.document_kind, result_code=r.result_code,
                    benefit_percent=r.benefit_percent, eligibility_source=r.eligibility_source, flags=r.flags,
                    services=r.services)


def _fold(text: str) -> str:
    """Case- and accent-insensitive form for name search ("tran thi" finds "Trần Thị")."""
    text = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    return "".join(c for c in text if unicodedata.category(c) != "Mn")


def _identity_keys(key: DataKey | None, digits: str) -> list[str]:
    keys = [f"id:{digits}", f"bhxh:{digits}"]
    if key is not None:
        keys += [key.identity_key(digits, None), key.identity_key(None, digits)]
    return keys


def queue_for(db: store.Executor, visit_date: str, search: str = "") -> list[QueueRow]:
    """The day's queue in number order. `search`: part of a name (case and accents ignored), a full ID or
    BHXH number, the last digits of an ID, or a queue number. Names may be sealed, so matching is done here."""
    out = [_row(r, db.key) for r in visits.queue_on(db, visit_date)]
    search = unicodedata.normalize("NFKC", search).strip()  # full-width digits typed by an IME become ASCII
    if not search:
        return out
    if search.isascii() and search.isdigit():
        ids = visits.ids_with_identity(db, visit_date, _identity_keys(db.key, search))
        return [r for r in out if r.visit_id in ids or str(r.queue_number) == search
                or (len(search) >= 3 and r.masked_id.endswith(search))]
    needle = _fold(search)
    return [r for r in out if needle in _fold(r.full_name)]


def get_row(db: store.Executor, visit_id: int) -> QueueRow:
    r = visits.queue_line(db, visit_id)
    if r is None:
        raise DeskError("unknown_visit", f"no visit {visit_id}")
    return _row(r, db.key)


def visit_by_number(db: store.Executor, visit_date: str, queue_number: int) -> QueueRow | None:
    """The day's visit with this queue number (what the receptionist reads off a ticket), if any."""
    visit_id = visits.id_by_number(db, visit_date, queue_number)
    return None if visit_id is None else get_row(db, visit_id)


def _audit(tx: store.Tx, staff_id: int | None, action: str, kind: str, record_id: object, purpose: str,
           details: dict[str, object] | None, now: datetime) -> None:
    audit.record(tx, actor=f"staff:{staff_id}" if staff_id is not None else "kiosk", action=action,
                 record_kind=kind, record_id=record_id, purpose=purpose, details=details, now=now)


def _change(tx: store.Tx, visit_id: int, staff_id: int | None, action: str, now: datetime,
            field_: str | None = None, old: object = None, new: object = None) -> None:
    visits.record_change(tx, visit_id, staff_id, action, iso_utc(now), field_, None if old is None else str(old),
                         None if new is None else str(new))
    event(log, "visit_" + action, visit_id=visit_id, staff_id=staff_id if staff_id is not None else "-",
          field=field_ or "-")


def record_change(db: UnitOfWork, visit_id: int, staff_id: int | None, action: str, now: datetime | None = None,
                  field: str | None = None, old: object = None, new: object = None) -> None:
    """Write one line of the visit's change log (e.g. "manual_entry" after a desk check-in), with who did it.
    Values are stored as given: pass sealed values for identity fields (never names or numbers in clear)."""
    with transaction(db) as tx:
        get_row(tx, visit_id)
        _change(tx, visit_id, staff_id, action, now_of(tx, now), field, old, new)


UPDATE_KIND = "visit_update"  # contract 1.2.0: a visit's queue state and services, numbered per visit


def enqueue_update(tx: store.Tx, visit_id: int, now: datetime,
                   identity_flags: dict[str, bool] | None = None) -> str:
    """Queue the visit's state and services for the hub, numbered `seq` (1, 2, … per visit), in the caller's
    transaction (kiosk.store.outbox refuses any other): the change and its outbox row commit together or not at all.
    The hub applies the highest seq it holds, so updates overtaken on the way (a retry) never undo a newer one.
    `identity_flags`: flags learnt after check-in (a re-scan with another name), which the hub adds to the visit's."""
    update = visits.next_update(tx, visit_id)
    body: dict[str, object] = {"visit_id": visit_id, "seq": update.seq, "state": update.state,
                               "services": visits.services_of(tx, visit_id), "changed_at": iso_utc(now)}
    if update.facility_code:
        body["facility_code"] = update.facility_code
    if identity_flags:
        body["identity_flags"] = identity_flags
    return outbox.enqueue(tx, UPDATE_KIND, visit_id, body, now)


def _set_status(tx: store.Tx, visit_id: int, status: str, staff_id: int | None, now: datetime,
                reason: str | None = None) -> QueueRow:
    if status not in STATES:
        raise DeskError("bad_state", f"unknown state {status!r}")
    row = get_row(tx, visit_id)
    if status == row.status:
        return row
    if status not in TRANSITIONS[row.status]:
        raise DeskError("bad_transition", f"{row.status} → {status}")
    visits.set_status(tx, visit_id, status)
    _change(tx, visit_id, staff_id, "status", now, "status", row.status, status)
    if reason:  # why (a cancellation, a person who left): sealed like every free text about a patient
        _change(tx, visit_id, staff_id, "status_reason", now, "reason", None,
                datakey.conceal("visit_changes.value", reason, tx.key))
    enqueue_update(tx, visit_id, now)
    return get_row(tx, visit_id)


def change_state(db: UnitOfWork, visit_id: int, new_state: str, staff_id: int | None, now: datetime | None = None,
                 *, reason: str | None = None) -> QueueRow:
    """Move a visit to `new_state` (one of STATES, along TRANSITIONS); the hub hears of it as a visit_update."""
    with transaction(db) as tx:
        return _set_status(tx, visit_id, new_state, staff_id, now_of(tx, now), reason)


def call_next(db: UnitOfWork, visit_date: str, staff_id: int | None, now: datetime | None = None,
              service: str | None = None) -> QueueRow | None:
    """The lowest-numbered waiting visit (for a service, if given) moves to being_seen."""
    with transaction(db) as tx:
        visit_id = visits.first_waiting(tx, visit_date, service)
        if visit_id is None:
            return None
        return _set_status(tx, visit_id, "being_seen", staff_id, now_of(tx, now))


def add_service(db: UnitOfWork, visit_id: int, service: str, staff_id: int | None,
                now: datetime | None = None) -> QueueRow:
    with transaction(db) as tx:
        now = now_of(tx, now)
        get_row(tx, visit_id)
        if not service:
            raise DeskError("no_service")
        if visits.add_service(tx, visit_id, service, staff_id, iso_utc(now)):
            if staff_id is not None:
                _change(tx, visit_id, staff_id, "service_added", now, "service", None, service)
            enqueue_update(tx, visit_id, now)
        return get_row(tx, visit_id)


def correct(db: UnitOfWork, visit_id: int, field_: str, value: str, staff_id: int,
            now: datetime | None = None) -> QueueRow:
    """Correct what the card said about the visit's patient (a misread name, a date)."""
    if field_ not in CORRECTABLE:
        raise DeskError("not_correctable", f"{field_} cannot be corrected here")
    value = " ".join((value or "").split())
    if field_ == "full_name" and not value:
        raise DeskError("name_empty")
    if field_ == "sex" and value not in ("male", "female"):
        raise DeskError("bad_sex")
    if field_ == "date_of_birth":
        try:
            datetime.strptime(value, "%Y-%m-%d")
        except ValueError:
            raise DeskError("bad_date", "a date as yyyy-mm-dd") from None
    with transaction(db) as tx:
        now = now_of(tx, now)
        found = visits.patient_field(tx, visit_id, field_)
        if found is None:
            raise DeskError("unknown_visit")
        stored = value if field_ == "sex" else datakey.conceal(f"patients.{field_}", value, tx.key)
        visits.set_patient_field(tx, found.patient_id, field_, stored, iso_utc(now))
        # Old and new values stay in the database (sealed like the patient row); never in the log.
        _change(tx, visit_id, staff_id, "corrected", now, field_, found.value,
                stored if field_ == "sex" else datakey.conceal("visit_changes.value", value, tx.key))
        _audit(tx, staff_id, "corrected", "patient", found.patient_id, "desk correction", {"field": field_}, now)
        return get_row(tx, visit_id)


def record_print(db: UnitOfWork, visit_id: int, staff_id: int | None, now: datetime | None = None,
                 reprint: bool = False) -> None:
    """A queue ticket printed for the visit (the audit trail's record of paper with a queue number)."""
    with transaction(db) as tx:
        now = now_of(tx, now)
        if reprint:
            _change(tx, visit_id, staff_id, "reprinted", now)
        _audit(tx, staff_id, "printed", "visit", visit_id, "queue ticket", {"reprint": reprint}, now)


def record_view(db: UnitOfWork, visit_id: int, staff_id: int, now: datetime | None = None, what: str = "") -> None:
    """A staff member looked at personal data of the visit (`what`: the chip photo, the change log)."""
    with transaction(db) as tx:
        _audit(tx, staff_id, "viewed", "visit", visit_id, f"desk: {what}", None, now_of(tx, now))


def changes(db: store.Executor, visit_id: int) -> list[Change]:
    return [Change(c.action, c.field, datakey.reveal("visit_changes.value", c.new_value, db.key), c.at, c.staff)
            for c in visits.changes(db, visit_id)]


def bhyt_answer(result_code: str | None, source: str | None) -> str:
    """A visit's BHYT answer in the categories the end-of-day counts use."""
    if result_code in {"000", "001", "002", "003", "004"}:
        return "covered"
    if not result_code or source == "none":
        return "unverified"
    return "not_covered"


@dataclass(frozen=True)
class DayCounts:
    """The day's counts. `visits`, `by_service` and `by_bhyt` leave cancelled visits out; `by_state` counts all.

    `by_service`: service code → visits (a visit with two services counts in both; none is "(none)");
    `by_bhyt`: covered / not_covered / unverified (:func:`bhyt_answer`); `by_state`: every one of STATES."""

    visit_date: str
    visits: int
    by_service: dict[str, int]
    by_bhyt: dict[str, int]
    by_state: dict[str, int]


def end_of_day(db: store.Executor, visit_date: str) -> DayCounts:
    """Counts for the day: by service, by BHYT answer, by state (cancelled visits excluded from the first two)."""
    rows = queue_for(db, visit_date)
    live = [r for r in rows if r.status != "cancelled"]
    by_service: dict[str, int] = {}
    for r in live:
        for s in r.services or ["(none)"]:
            by_service[s] = by_service.get(s, 0) + 1
    by_bhyt: dict[str, int] = {"covered": 0, "not_covered": 0, "unverified": 0}
    for r in live:
        by_bhyt[bhyt_answer(r.result_code, r.eligibility_source)] += 1
    by_state = {s: 0 for s in STATES}
    for r in rows:
        by_state[r.status] += 1
    return DayCounts(visit_date=visit_date, visits=len(live), by_service=by_service, by_bhyt=by_bhyt,
                     by_state=by_state)


EXPORT_COLUMNS = ("queue_number", "status", "created_at", "source", "masked_id", "full_name", "services",
                  "bhyt_answer", "result_code", "benefit_percent")


def export_csv(db: UnitOfWork, visit_date: str, path: Path, staff_id: int, now: datetime | None = None) -> int:
    """Write the day's visits to a CSV — only by a staff member's explicit action, which is recorded.

    IDs are masked; the file carries the minimum the station's daily report needs.
    """
    with transaction(db) as tx:
        now = now_of(tx, now)
        rows = queue_for(tx, visit_date)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        with open(tmp, "w", newline="", encoding="utf-8-sig") as f:  # BOM: spreadsheet programs read UTF-8 right
            w = csv.writer(f)
            w.writerow(EXPORT_COLUMNS)
            for r in rows:
                w.writerow([r.queue_number, r.status, r.created_at, r.source, r.masked_id, r.full_name,
                            " + ".join(r.services), bhyt_answer(r.result_code, r.eligibility_source),
                            r.result_code or "", "" if r.benefit_percent is None else r.benefit_percent])
        tmp.replace(path)
        visits.record_export(tx, staff_id, "day_csv", visit_date, len(rows), str(path), iso_utc(now))
        _audit(tx, staff_id, "exported", "day", visit_date, "end-of-day export", {"rows": len(rows)}, now)
    event(log, "desk_export", staff_id=staff_id, rows=len(rows))
    return len(rows)
