"""Patient-stay notifications (`stay_notifications`): the only module with SQL on that table.

Rows come and go as stored: the statutory identity fields are sealed under
the device data key by kiosk.services.stay_notification, which opens them.
The sender (sync/) moves the states with the `mark_*` writers inside its own
transactions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Sequence  # Any: a row as sqlite3 returns it, typed field by field below

from kiosk.store.connection import Executor, Tx


@dataclass(frozen=True)
class StayRecord:
    """A notification row, with its outbox row's state; identity fields as stored (sealed)."""

    id: int
    visit_id: int
    full_name: str | None
    date_of_birth: str | None
    id_number: str | None
    passport_number: str | None
    reason: str | None
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


_SELECT = """
SELECT s.id, s.visit_id, s.full_name, s.date_of_birth, s.id_number, s.passport_number, s.reason, s.stay_from,
       s.stay_until, s.address_of_stay, s.deadline_at, s.state, s.created_at, s.clock_synced, s.sent_at,
       s.acknowledged_at, s.hub_reference, s.manual_reason, s.receipt_text, s.receipt_at, s.flags, o.state
FROM stay_notifications s LEFT JOIN outbox o ON o.id = s.outbox_id
"""


def _row(r: Sequence[Any]) -> StayRecord:
    return StayRecord(id=r[0], visit_id=r[1], full_name=r[2], date_of_birth=r[3], id_number=r[4],
                      passport_number=r[5], reason=r[6], stay_from=r[7], stay_until=r[8], address_of_stay=r[9],
                      deadline_at=r[10], state=r[11], created_at=r[12], clock_synced=bool(r[13]), sent_at=r[14],
                      acknowledged_at=r[15], hub_reference=r[16], manual_reason=r[17], receipt_text=r[18],
                      receipt_at=r[19], flags=json.loads(r[20]), outbox_state=r[21])


def get(db: Executor, notification_id: int) -> StayRecord | None:
    r = db.execute(_SELECT + " WHERE s.id = ?", [notification_id]).fetchone()
    return None if r is None else _row(r)


def list_all(db: Executor, states: Sequence[str] | None = None) -> list[StayRecord]:
    """Every notification by id; with `states`, those in them, soonest deadline first."""
    if states:
        marks = ",".join("?" * len(states))
        cur = db.execute(_SELECT + f" WHERE s.state IN ({marks}) ORDER BY s.deadline_at, s.id", list(states))
    else:
        cur = db.execute(_SELECT + " ORDER BY s.id")
    return [_row(r) for r in cur.fetchall()]


def for_visit(db: Executor, visit_id: int) -> int | None:
    """The id of the visit's notification, if it has one (a visit has at most one)."""
    r = db.execute("SELECT id FROM stay_notifications WHERE visit_id = ?", [visit_id]).fetchone()
    return None if r is None else int(r[0])


@dataclass(frozen=True)
class VisitPatient:
    """The visit's patient as stored (identity fields sealed): what a notification copies."""

    patient_id: int
    full_name: str | None
    date_of_birth: str | None
    id_number: str | None


def visit_patient(db: Executor, visit_id: int) -> VisitPatient | None:
    r = db.execute("SELECT v.patient_id, p.full_name, p.date_of_birth, p.id_number "
                   "FROM visits v JOIN patients p ON p.id = v.patient_id WHERE v.id = ?", [visit_id]).fetchone()
    return None if r is None else VisitPatient(*r)


@dataclass(frozen=True)
class NewStay:
    visit_id: int
    patient_id: int
    full_name: str | None  # the identity fields sealed by the caller
    date_of_birth: str | None
    id_number: str | None
    passport_number: str | None
    reason: str | None
    stay_from: str
    stay_until: str | None
    address_of_stay: str
    deadline_at: str
    created_at: str
    clock_synced: bool
    flags: list[str]


def insert(tx: Tx, n: NewStay) -> int:
    cur = tx.execute(
        "INSERT INTO stay_notifications(visit_id, patient_id, full_name, date_of_birth, id_number, "
        "passport_number, reason, stay_from, stay_until, address_of_stay, deadline_at, created_at, "
        "clock_synced, flags) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [n.visit_id, n.patient_id, n.full_name, n.date_of_birth, n.id_number, n.passport_number, n.reason,
         n.stay_from, n.stay_until, n.address_of_stay, n.deadline_at, n.created_at, int(n.clock_synced),
         json.dumps(n.flags)])
    return int(cur.lastrowid or 0)


def link_outbox(tx: Tx, notification_id: int, kind: str) -> None:
    """Point the notification at its (latest) outbox row, queued in the same transaction."""
    tx.execute("UPDATE stay_notifications SET outbox_id = (SELECT max(id) FROM outbox WHERE kind = ? AND "
               "record_id = ?) WHERE id = ?", [kind, notification_id, notification_id])


def record_receipt(tx: Tx, notification_id: int, text: str, at: str) -> None:
    tx.execute("UPDATE stay_notifications SET state = 'receipt_recorded', receipt_text = ?, receipt_at = ? "
               "WHERE id = ?", [text, at, notification_id])


def record_second_receipt(tx: Tx, notification_id: int, text: str, at: str, flags: list[str]) -> None:
    """A hand receipt for a notification the hub may already hold: both kept, the row flagged."""
    tx.execute("UPDATE stay_notifications SET receipt_text = ?, receipt_at = ?, flags = ? WHERE id = ?",
               [text, at, json.dumps(flags), notification_id])


# --- called by the sender inside its own transactions -------------------------------------------

def mark_sent(tx: Executor, notification_ids: list[int], at: str) -> None:
    tx.executemany("UPDATE stay_notifications SET state = 'sent', sent_at = coalesce(sent_at, ?) "
                   "WHERE id = ? AND state = 'pending'", [(at, i) for i in notification_ids])


def mark_unsent(tx: Executor, notification_ids: list[int]) -> None:
    tx.executemany("UPDATE stay_notifications SET state = 'pending' WHERE id = ? AND state = 'sent'",
                   [(i,) for i in notification_ids])


def mark_acknowledged(tx: Executor, acks: list[tuple[int, str | None]], at: str) -> None:
    tx.executemany("UPDATE stay_notifications SET state = 'acknowledged', acknowledged_at = ?, hub_reference = ? "
                   "WHERE id = ? AND state IN ('pending', 'sent')", [(at, ref, i) for i, ref in acks])


def mark_needs_manual(tx: Executor, notification_id: int, reason: str) -> None:
    # Already receipted by hand while it was in flight: the hand submission is the one that counts.
    tx.execute("UPDATE stay_notifications SET manual_reason = ?, "
               "state = CASE WHEN receipt_text IS NOT NULL THEN 'receipt_recorded' ELSE 'needs_manual' END "
               "WHERE id = ? AND state IN ('pending', 'sent')", [reason, notification_id])
