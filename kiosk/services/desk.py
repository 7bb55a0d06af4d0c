"""The front desk: today's queue, visit states, services, corrections, end-of-day counts, export.

Every change made from the console is written to `visit_changes` with the
staff member who made it, and to the audit trail (kiosk.privacy.audit) when the
access touches personal data (views, prints, exports, corrections). No Qt.
"""

from __future__ import annotations

import csv
import json
import logging
import sqlite3
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from kiosk.clock import iso_utc
from kiosk.errors import ReasonError
from kiosk.logs import event

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

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


_QUEUE_SQL = """
SELECT v.id, v.queue_number, v.status, v.source, v.created_at, p.full_name, p.masked_id, p.document_kind,
       e.result_code, e.benefit_percent, e.source, v.flags,
       (SELECT group_concat(service, ',') FROM (SELECT service FROM visit_services s WHERE s.visit_id = v.id
                                                ORDER BY s.id))
FROM visits v JOIN patients p ON p.id = v.patient_id
LEFT JOIN eligibility_results e ON e.id = (SELECT max(id) FROM eligibility_results WHERE visit_id = v.id)
"""


def _reveal(context: str, value):
    """Identity fields may be sealed under the device data key (kiosk.privacy.datakey); open them for display."""
    try:
        from kiosk.privacy import datakey
    except ImportError:
        return value
    return datakey.reveal(context, value)


def _conceal(conn, context: str, value):
    try:
        from kiosk.privacy import datakey
    except ImportError:
        return value
    return datakey.conceal(context, value, datakey.key_for(conn))


def _queue_row(r) -> QueueRow:
    return QueueRow(visit_id=r[0], queue_number=r[1], status=r[2], source=r[3], created_at=r[4],
                    full_name=_reveal("patients.full_name", r[5]) or "", masked_id=r[6], document_kind=r[7],
                    result_code=r[8], benefit_percent=r[9], eligibility_source=r[10], flags=json.loads(r[11] or "[]"),
                    services=[s for s in (r[12] or "").split(",") if s])


def _fold(text: str) -> str:
    """Case- and accent-insensitive form for name search ("tran thi" finds "Trần Thị")."""
    import unicodedata
    text = unicodedata.normalize("NFD", text.casefold().replace("đ", "d"))
    return "".join(c for c in text if unicodedata.category(c) != "Mn")


def _identity_keys(conn, digits: str) -> list[str]:
    try:
        from kiosk.privacy import datakey
    except ImportError:
        return [f"id:{digits}", f"bhxh:{digits}"]
    key = datakey.key_for(conn)
    keys = [f"id:{digits}", f"bhxh:{digits}"]
    if key is not None:
        keys += [key.identity_key(digits, None), key.identity_key(None, digits)]
    return keys


def queue_for(conn: sqlite3.Connection, visit_date: str, search: str = "") -> list[QueueRow]:
    """The day's queue in number order. `search`: part of a name (case and accents ignored), a full ID or
    BHXH number, the last digits of an ID, or a queue number. Names may be sealed, so matching is done here."""
    rows = conn.execute(_QUEUE_SQL + " WHERE v.visit_date = ? ORDER BY v.queue_number", [visit_date]).fetchall()
    out = [_queue_row(r) for r in rows]
    search = unicodedata.normalize("NFKC", search).strip()  # full-width digits typed by an IME become ASCII
    if not search:
        return out
    if search.isascii() and search.isdigit():
        keys = _identity_keys(conn, search)
        ids = {r[0] for r in conn.execute(
            "SELECT v.id FROM visits v JOIN patients p ON p.id = v.patient_id WHERE v.visit_date = ? AND "
            f"p.identity_key IN ({','.join('?' * len(keys))})", [visit_date, *keys])}
        return [r for r in out if r.visit_id in ids or str(r.queue_number) == search
                or (len(search) >= 3 and r.masked_id.endswith(search))]
    needle = _fold(search)
    return [r for r in out if needle in _fold(r.full_name)]


def get_row(conn: sqlite3.Connection, visit_id: int) -> QueueRow:
    r = conn.execute(_QUEUE_SQL + " WHERE v.id = ?", [visit_id]).fetchone()
    if r is None:
        raise DeskError("unknown_visit", f"no visit {visit_id}")
    return _queue_row(r)


def _audit(conn, staff_id: int | None, action: str, kind: str, record_id: Any, purpose: str,
           details: dict | None, now: datetime) -> None:
    try:
        from kiosk.privacy import audit
    except ImportError:  # the audit module is optional for the desk; visit_changes still records who
        return
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'audit_log'").fetchone() is None:
        return
    audit.record(conn, actor=f"staff:{staff_id}" if staff_id is not None else "kiosk", action=action,
                 record_kind=kind, record_id=record_id, purpose=purpose, details=details, now=now)


def _change(conn, visit_id: int, staff_id: int | None, action: str, now: datetime, field_: str | None = None,
            old: Any = None, new: Any = None) -> None:
    conn.execute("INSERT INTO visit_changes(visit_id, staff_id, action, field, old_value, new_value, at) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?)",
                 [visit_id, staff_id, action, field_, None if old is None else str(old),
                  None if new is None else str(new), iso_utc(now)])
    event(log, "visit_" + action, visit_id=visit_id, staff_id=staff_id if staff_id is not None else "-",
          field=field_ or "-")


UPDATE_KIND = "visit_update"  # contract 1.2.0: a visit's queue state and services, numbered per visit


def enqueue_update(conn: sqlite3.Connection, visit_id: int, now: datetime,
                   identity_flags: dict[str, bool] | None = None) -> str:
    """Queue the visit's state and services for the hub, numbered `seq` (1, 2, … per visit), in the caller's
    transaction (kiosk.store.outbox refuses any other): the change and its outbox row commit together or not at all.
    The hub applies the highest seq it holds, so updates overtaken on the way (a retry) never undo a newer one.
    `identity_flags`: flags learnt after check-in (a re-scan with another name), which the hub adds to the visit's."""
    from kiosk.store import outbox
    conn.execute("UPDATE visits SET update_seq = update_seq + 1 WHERE id = ?", [visit_id])
    seq, state, facility = conn.execute("SELECT update_seq, status, facility_code FROM visits WHERE id = ?",
                                        [visit_id]).fetchone()
    services = [r[0] for r in conn.execute("SELECT service FROM visit_services WHERE visit_id = ? ORDER BY id",
                                           [visit_id])]
    body = {"visit_id": visit_id, "seq": seq, "state": state, "services": services, "changed_at": iso_utc(now)}
    if facility:
        body["facility_code"] = facility
    if identity_flags:
        body["identity_flags"] = identity_flags
    return outbox.enqueue(conn, UPDATE_KIND, visit_id, body, now)


def set_status(conn: sqlite3.Connection, visit_id: int, status: str, staff_id: int, now: datetime) -> QueueRow:
    if status not in STATES:
        raise DeskError("bad_state", f"unknown state {status!r}")
    row = get_row(conn, visit_id)
    if status == row.status:
        return row
    if status not in TRANSITIONS[row.status]:
        raise DeskError("bad_transition", f"{row.status} → {status}")
    conn.execute("UPDATE visits SET status = ? WHERE id = ?", [status, visit_id])
    _change(conn, visit_id, staff_id, "status", now, "status", row.status, status)
    enqueue_update(conn, visit_id, now)
    return get_row(conn, visit_id)


def call_next(conn: sqlite3.Connection, visit_date: str, staff_id: int, now: datetime,
              service: str | None = None) -> QueueRow | None:
    """The lowest-numbered waiting visit (for a service, if given) moves to being_seen."""
    sql = "SELECT v.id FROM visits v WHERE v.visit_date = ? AND v.status = 'waiting'"
    args: list[Any] = [visit_date]
    if service:
        sql += " AND EXISTS (SELECT 1 FROM visit_services s WHERE s.visit_id = v.id AND s.service = ?)"
        args.append(service)
    r = conn.execute(sql + " ORDER BY v.queue_number LIMIT 1", args).fetchone()
    if r is None:
        return None
    return set_status(conn, r[0], "being_seen", staff_id, now)


def add_service(conn: sqlite3.Connection, visit_id: int, service: str, staff_id: int | None,
                now: datetime) -> QueueRow:
    get_row(conn, visit_id)
    if not service:
        raise DeskError("no_service")
    cur = conn.execute("INSERT OR IGNORE INTO visit_services(visit_id, service, added_by, added_at) "
                       "VALUES (?, ?, ?, ?)", [visit_id, service, staff_id, iso_utc(now)])
    if cur.rowcount and staff_id is not None:
        _change(conn, visit_id, staff_id, "service_added", now, "service", None, service)
    if cur.rowcount:
        enqueue_update(conn, visit_id, now)
    return get_row(conn, visit_id)


def correct(conn: sqlite3.Connection, visit_id: int, field_: str, value: str, staff_id: int,
            now: datetime) -> QueueRow:
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
    found = conn.execute(f"SELECT p.id, p.{field_} FROM visits v JOIN patients p ON p.id = v.patient_id "
                         "WHERE v.id = ?", [visit_id]).fetchone()
    if found is None:
        raise DeskError("unknown_visit")
    pid, old = found
    stored = value if field_ == "sex" else _conceal(conn, f"patients.{field_}", value)
    conn.execute(f"UPDATE patients SET {field_} = ?, updated_at = ? WHERE id = ?", [stored, iso_utc(now), pid])
    # Old and new values stay in the database (sealed like the patient row); never in the log.
    _change(conn, visit_id, staff_id, "corrected", now, field_, old,
            stored if field_ == "sex" else _conceal(conn, "visit_changes.value", value))
    _audit(conn, staff_id, "corrected", "patient", pid, "desk correction", {"field": field_}, now)
    return get_row(conn, visit_id)


def record_print(conn: sqlite3.Connection, visit_id: int, staff_id: int | None, now: datetime,
                 reprint: bool = False) -> None:
    if reprint:
        _change(conn, visit_id, staff_id, "reprinted", now)
    _audit(conn, staff_id, "printed", "visit", visit_id, "queue ticket", {"reprint": reprint}, now)


def record_view(conn: sqlite3.Connection, visit_id: int, staff_id: int, now: datetime, what: str) -> None:
    _audit(conn, staff_id, "viewed", "visit", visit_id, f"desk: {what}", None, now)


def changes(conn: sqlite3.Connection, visit_id: int) -> list[dict]:
    rows = conn.execute("SELECT c.action, c.field, c.new_value, c.at, s.full_name FROM visit_changes c "
                        "LEFT JOIN staff s ON s.id = c.staff_id WHERE c.visit_id = ? ORDER BY c.id", [visit_id])
    return [{"action": a, "field": f, "new_value": _reveal("visit_changes.value", n), "at": at, "staff": s}
            for a, f, n, at, s in rows]


def bhyt_answer(result_code: str | None, source: str | None) -> str:
    """A visit's BHYT answer in the categories the end-of-day counts use."""
    if result_code in {"000", "001", "002", "003", "004"}:
        return "covered"
    if not result_code or source == "none":
        return "unverified"
    return "not_covered"


def end_of_day(conn: sqlite3.Connection, visit_date: str) -> dict[str, Any]:
    """Counts for the day: by service, by BHYT answer, by state (cancelled visits excluded from the first two)."""
    rows = queue_for(conn, visit_date)
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
    return {"visit_date": visit_date, "visits": len(live), "by_service": by_service, "by_bhyt": by_bhyt,
            "by_state": by_state}


EXPORT_COLUMNS = ("queue_number", "status", "created_at", "source", "masked_id", "full_name", "services",
                  "bhyt_answer", "result_code", "benefit_percent")


def export_csv(conn: sqlite3.Connection, visit_date: str, path: Path, staff_id: int, now: datetime) -> int:
    """Write the day's visits to a CSV — only by a staff member's explicit action, which is recorded.

    IDs are masked; the file carries the minimum the station's daily report needs.
    """
    rows = queue_for(conn, visit_date)
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
    conn.execute("INSERT INTO desk_exports(staff_id, kind, visit_date, rows, path, at) VALUES (?, ?, ?, ?, ?, ?)",
                 [staff_id, "day_csv", visit_date, len(rows), str(path), iso_utc(now)])
    _audit(conn, staff_id, "exported", "day", visit_date, "end-of-day export", {"rows": len(rows)}, now)
    event(log, "desk_export", staff_id=staff_id, rows=len(rows))
    return len(rows)
