"""Patient-stay notifications (thông báo lưu trú): raised from a visit, due by a deadline in Vietnam time.

A notification carries exactly the statutory fields (full name, date of
birth, ID or passport number, reason, time of stay, address of stay — the
station's) and is written with its outbox row in one transaction. States:

    pending → sent → acknowledged            (the machine path, via the hub)
    needs_manual → receipt_recorded          (the hub refused it / staff submitted by hand)

A receptionist may record a receipt from a hand submission at any time: a
notification still queued is withdrawn from the outbox; one already sent is
kept on both paths and flagged, so the receptionist can tell the police desk.

The deadline: a stay starting before 23:00 (Vietnam time) is due at 23:00
that day; one starting at or after 23:00 is due at 08:00 the next day.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone
from typing import Any

from kiosk import store
from kiosk.privacy import datakey
from kiosk.store import outbox
from kiosk.clock import VN_TZ, iso_utc, parse_iso
from kiosk.errors import UsageError
from kiosk.logs import event
from kiosk.masking import mask_id

log = logging.getLogger(__name__)

KIND = "stay_notification"
STATES = ("pending", "sent", "acknowledged", "needs_manual", "receipt_recorded")
OPEN_STATES = ("pending", "sent", "needs_manual")  # not done: no acknowledgement and no receipt yet
EVENING_CUTOFF = time(23, 0)
MORNING_DEADLINE = time(8, 0)
ALARM_BEFORE = timedelta(hours=1)
# What leaves the kiosk: the statutory fields and the bookkeeping the hub needs to file them.
STATUTORY_FIELDS = ("full_name", "date_of_birth", "id_number", "passport_number", "reason", "stay_from",
                    "stay_until", "address_of_stay")


def deadline_for(stay_from: datetime) -> datetime:
    """When the notification is due (UTC), from the instant the stay starts.

    Judged on the wall clock in Asia/Ho_Chi_Minh whatever the system timezone is.
    """
    if stay_from.tzinfo is None:
        raise ValueError("deadline_for needs an aware datetime")
    local = stay_from.astimezone(VN_TZ)
    if local.timetz().replace(tzinfo=None) < EVENING_CUTOFF:
        due = datetime.combine(local.date(), EVENING_CUTOFF, VN_TZ)
    else:
        due = datetime.combine(local.date() + timedelta(days=1), MORNING_DEADLINE, VN_TZ)
    return due.astimezone(timezone.utc)


def parse_when(text: str, option: str = "--from") -> datetime:
    """ISO date-time; without an offset it is Vietnam wall-clock time (what the receptionist reads)."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{option}: expected an ISO date-time such as 2026-11-26T21:30 "
                         f"(Vietnam time unless it has an offset), got {text!r}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=VN_TZ)
    return value.astimezone(timezone.utc)


@dataclass(frozen=True)
class StayNotification:
    id: int
    visit_id: int
    full_name: str
    date_of_birth: str | None
    id_number: str | None
    passport_number: str | None
    reason: str
    stay_from: str
    stay_until: str | None
    address_of_stay: str
    deadline_at: str
    state: str
    created_at: str
    clock_synced: bool
    sent_at: str | None
    acknowledged_at: str | None
    hub_reference: str | None
    manual_reason: str | None
    receipt_text: str | None
    receipt_at: str | None
    flags: list[str]
    outbox_state: str | None

    @property
    def masked_id(self) -> str:
        return mask_id(self.id_number or self.passport_number)

    @property
    def done(self) -> bool:
        return self.state in ("acknowledged", "receipt_recorded")

    def time_left(self, now: datetime) -> timedelta:
        return parse_iso(self.deadline_at) - now

    def to_json(self, now: datetime | None = None, clock_synced_now: bool | None = None) -> dict[str, Any]:
        """The `kiosk stay list --json` shape: masked ID, never the full number."""
        data = {
            "id": self.id, "visit_id": self.visit_id, "state": self.state, "full_name": self.full_name,
            "date_of_birth": self.date_of_birth, "masked_id": self.masked_id,
            "document": "passport" if self.passport_number and not self.id_number else "id_number",
            "reason": self.reason, "stay_from": self.stay_from, "stay_until": self.stay_until,
            "address_of_stay": self.address_of_stay, "deadline_at": self.deadline_at,
            "deadline_local": parse_iso(self.deadline_at).astimezone(VN_TZ).isoformat(timespec="minutes"),
            "created_at": self.created_at, "clock_synced": self.clock_synced,
            "sent_at": self.sent_at, "acknowledged_at": self.acknowledged_at, "hub_reference": self.hub_reference,
            "manual_reason": self.manual_reason, "receipt_text": self.receipt_text, "receipt_at": self.receipt_at,
            "outbox_state": self.outbox_state, "flags": self.flags,
        }
        if now is not None:
            left = self.time_left(now)
            data["time_left_seconds"] = None if self.done else int(left.total_seconds())
            data["overdue"] = (not self.done) and left.total_seconds() < 0
            data["alarm"] = (not self.done) and left <= ALARM_BEFORE
            # Deadlines are never silently judged on a clock nobody synchronised.
            data["deadline_trusted"] = bool(self.clock_synced and (clock_synced_now is not False))
        return data


_SELECT = """
SELECT s.id, s.visit_id, s.full_name, s.date_of_birth, s.id_number, s.passport_number, s.reason, s.stay_from,
       s.stay_until, s.address_of_stay, s.deadline_at, s.state, s.created_at, s.clock_synced, s.sent_at,
       s.acknowledged_at, s.hub_reference, s.manual_reason, s.receipt_text, s.receipt_at, s.flags, o.state
FROM stay_notifications s LEFT JOIN outbox o ON o.id = s.outbox_id
"""


_SEALED = ("full_name", "date_of_birth", "id_number", "passport_number", "reason")  # at rest (kiosk.privacy.datakey)


def _row(r: tuple) -> StayNotification:
    opened = [datakey.reveal(f"stay_notifications.{c}", v) for c, v in zip(_SEALED, r[2:7])]
    return StayNotification(*r[:2], *opened, *r[7:13], bool(r[13]), *r[14:20], json.loads(r[20]), r[21])


def get(conn: sqlite3.Connection, notification_id: int) -> StayNotification:
    r = conn.execute(_SELECT + " WHERE s.id = ?", [notification_id]).fetchone()
    if r is None:
        raise UsageError(f"no stay notification with id {notification_id}")
    return _row(r)


def list_all(conn: sqlite3.Connection, states: tuple[str, ...] | None = None) -> list[StayNotification]:
    if states:
        marks = ",".join("?" * len(states))
        rows = conn.execute(_SELECT + f" WHERE s.state IN ({marks}) ORDER BY s.deadline_at, s.id", list(states))
    else:
        rows = conn.execute(_SELECT + " ORDER BY s.id")
    return [_row(r) for r in rows.fetchall()]


def pending_with_time_left(conn: sqlite3.Connection, now: datetime,
                           clock_synced_now: bool | None = None) -> list[dict[str, Any]]:
    """Notifications not yet done, soonest deadline first, each with `time_left_seconds`, `overdue`,
    `alarm` (within an hour of the deadline) and `deadline_trusted`. The UI's alarm reads this."""
    return [n.to_json(now, clock_synced_now) for n in list_all(conn, OPEN_STATES)]


def upstream_payload(n_id: int, facility_code: str, fields: dict[str, Any], deadline_at: str, created_at: str,
                     clock_synced: bool) -> dict[str, Any]:
    payload = {k: fields.get(k) for k in STATUTORY_FIELDS}
    payload.update({"notification_id": n_id, "facility_code": facility_code, "deadline_at": deadline_at,
                    "created_at": created_at, "clock_synced": clock_synced})
    return payload


def start(db, visit_id: int, reason: str, *, clock, facility_code: str, address_of_stay: str,
          stay_from: datetime | None = None, stay_until: datetime | None = None,
          passport_number: str | None = None) -> StayNotification:
    """Raise the notification for a visit's patient and queue it for the hub, in one transaction."""
    reason = (reason or "").strip()
    if not reason:
        raise UsageError("--reason: the reason for the stay is required (e.g. \"theo dõi sau sinh\")")
    if not address_of_stay.strip():
        raise UsageError("facility.address is empty: it is the address of stay the notification must carry")
    now = clock.now()
    synced = bool(clock.synchronised())
    begin = (stay_from or now).astimezone(timezone.utc)
    if stay_until is not None and stay_until <= begin:
        raise UsageError("--until must be after the start of the stay")
    passport_number = (passport_number or "").strip() or None
    deadline = deadline_for(begin)
    flags = [] if synced else ["clock_unsynced"]
    with store.transaction(db) as conn:
        v = conn.execute("SELECT v.id, v.patient_id, p.full_name, p.date_of_birth, p.id_number "
                         "FROM visits v JOIN patients p ON p.id = v.patient_id WHERE v.id = ?", [visit_id]).fetchone()
        if v is None:
            raise UsageError(f"no visit with id {visit_id}")
        existing = conn.execute("SELECT id FROM stay_notifications WHERE visit_id = ?", [visit_id]).fetchone()
        if existing:
            raise UsageError(f"visit {visit_id} already has stay notification {existing[0]}; "
                             "a second one would be a duplicate at the police desk")
        _, patient_id, full_name, dob, id_number = v
        full_name, dob, id_number = (datakey.reveal(f"patients.{c}", x) for c, x in
                                     (("full_name", full_name), ("date_of_birth", dob), ("id_number", id_number)))
        key = datakey.key_for(conn)
        if not id_number and not passport_number:
            raise UsageError("the patient has no personal ID number on file; give --passport NUMBER "
                             "(the notification needs an ID or passport number)")
        fields = {"full_name": full_name, "date_of_birth": dob, "id_number": id_number,
                  "passport_number": passport_number if not id_number else None, "reason": reason,
                  "stay_from": iso_utc(begin), "stay_until": iso_utc(stay_until) if stay_until else None,
                  "address_of_stay": address_of_stay.strip()}
        cur = conn.execute(
            "INSERT INTO stay_notifications(visit_id, patient_id, full_name, date_of_birth, id_number, "
            "passport_number, reason, stay_from, stay_until, address_of_stay, deadline_at, created_at, "
            "clock_synced, flags) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [visit_id, patient_id, *(datakey.conceal(f"stay_notifications.{c}", fields[c], key) for c in _SEALED),
             fields["stay_from"], fields["stay_until"], fields["address_of_stay"],
             iso_utc(deadline), iso_utc(now), int(synced), json.dumps(flags)])
        n_id = cur.lastrowid
        outbox.enqueue(conn, KIND, n_id, upstream_payload(n_id, facility_code, fields, iso_utc(deadline),
                                                          iso_utc(now), synced), now)
        (outbox_id,) = conn.execute("SELECT max(id) FROM outbox WHERE kind = ? AND record_id = ?",
                                    [KIND, n_id]).fetchone()
        conn.execute("UPDATE stay_notifications SET outbox_id = ? WHERE id = ?", [outbox_id, n_id])
        result = get(conn, n_id)
    event(log, "stay_started", notification=n_id, visit_id=visit_id, deadline=iso_utc(deadline),
          clock_synced=synced)
    return result


def record_receipt(db, notification_id: int, text: str, *, clock) -> tuple[StayNotification, str]:
    """Record the receipt / case number of a submission made by hand (VNeID, the portal).

    Returns the notification and what happened: "withdrawn" (it was still queued; it will not be sent),
    "recorded" (it needed manual submission), or "kept_both" (it had already gone to the hub: both
    submissions exist and the row is flagged `submitted_twice` for the receptionist).
    """
    text = (text or "").strip()
    if not text:
        raise UsageError("the receipt text (case or receipt number) is required")
    now = iso_utc(clock.now())
    with store.transaction(db) as conn:
        n = get(conn, notification_id)
        if n.state == "receipt_recorded" or n.receipt_text:
            raise UsageError(f"stay notification {notification_id} already has a receipt recorded "
                             f"({n.receipt_at})")
        # 'queued' means it never (possibly) reached the hub: the sender moves a row to 'sent' under
        # this same write lock before it sends, and back to 'queued' only when the hub surely did not get it.
        withdrawn = conn.execute("UPDATE outbox SET state = 'withdrawn', payload = '{}' "
                                 "WHERE kind = ? AND record_id = ? AND state = 'queued'",
                                 [KIND, notification_id]).rowcount
        if withdrawn or n.state == "needs_manual" or n.outbox_state in ("withdrawn", "needs_manual"):
            outcome = "withdrawn" if withdrawn else "recorded"
            conn.execute("UPDATE stay_notifications SET state = 'receipt_recorded', receipt_text = ?, receipt_at = ? "
                         "WHERE id = ?", [text, now, notification_id])
        else:
            outcome = "kept_both"
            flags = sorted(set(n.flags) | {"submitted_twice"})
            conn.execute("UPDATE stay_notifications SET receipt_text = ?, receipt_at = ?, flags = ? WHERE id = ?",
                         [text, now, json.dumps(flags), notification_id])
        result = get(conn, notification_id)
    event(log, "stay_receipt_recorded", notification=notification_id, outcome=outcome)
    return result, outcome


# --- called by the sender inside its own transactions -------------------------------------------

def mark_sent(conn: sqlite3.Connection, notification_ids: list[int], at: str) -> None:
    conn.executemany("UPDATE stay_notifications SET state = 'sent', sent_at = coalesce(sent_at, ?) "
                     "WHERE id = ? AND state = 'pending'", [(at, i) for i in notification_ids])


def mark_unsent(conn: sqlite3.Connection, notification_ids: list[int]) -> None:
    conn.executemany("UPDATE stay_notifications SET state = 'pending' WHERE id = ? AND state = 'sent'",
                     [(i,) for i in notification_ids])


def mark_acknowledged(conn: sqlite3.Connection, acks: list[tuple[int, str | None]], at: str) -> None:
    conn.executemany("UPDATE stay_notifications SET state = 'acknowledged', acknowledged_at = ?, hub_reference = ? "
                     "WHERE id = ? AND state IN ('pending', 'sent')", [(at, ref, i) for i, ref in acks])


def mark_needs_manual(conn: sqlite3.Connection, notification_id: int, reason: str) -> None:
    # Already receipted by hand while it was in flight: the hand submission is the one that counts.
    conn.execute("UPDATE stay_notifications SET manual_reason = ?, "
                 "state = CASE WHEN receipt_text IS NOT NULL THEN 'receipt_recorded' ELSE 'needs_manual' END "
                 "WHERE id = ? AND state IN ('pending', 'sent')", [reason, notification_id])
