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

Public API: :func:`start`, :func:`record_receipt` (each one transaction on a
`store.Database`, stamped by its clock), :func:`get`, :func:`list_all`,
:func:`pending_with_time_left`, :func:`deadline_for`, :func:`parse_when`,
:class:`StayNotification`; for the sender (sync/), inside its transactions:
:func:`mark_sent`, :func:`mark_unsent`, :func:`mark_acknowledged`,
:func:`mark_needs_manual`. No SQL here (kiosk.store.stays).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone

from kiosk import store
from kiosk.clock import VN_TZ, Clock, iso_utc, parse_iso
from kiosk.errors import UsageError
from kiosk.logs import event
from kiosk.masking import mask_id
from kiosk.privacy import datakey
from kiosk.privacy.datakey import DataKey
from kiosk.store import outbox, stays
from kiosk.store.stays import StayRecord

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

    def to_json(self, now: datetime | None = None, clock_synced_now: bool | None = None) -> dict[str, object]:
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


_SEALED = ("full_name", "date_of_birth", "id_number", "passport_number", "reason")  # at rest (kiosk.privacy.datakey)


def _open(r: StayRecord, key: DataKey | None) -> StayNotification:
    def reveal(column: str, value: str | None) -> str | None:
        opened: str | None = datakey.reveal(f"stay_notifications.{column}", value, key)
        return opened
    return StayNotification(
        id=r.id, visit_id=r.visit_id, full_name=reveal("full_name", r.full_name) or "",
        date_of_birth=reveal("date_of_birth", r.date_of_birth), id_number=reveal("id_number", r.id_number),
        passport_number=reveal("passport_number", r.passport_number), reason=reveal("reason", r.reason) or "",
        stay_from=r.stay_from, stay_until=r.stay_until, address_of_stay=r.address_of_stay,
        deadline_at=r.deadline_at, state=r.state, created_at=r.created_at, clock_synced=r.clock_synced,
        sent_at=r.sent_at, acknowledged_at=r.acknowledged_at, hub_reference=r.hub_reference,
        manual_reason=r.manual_reason, receipt_text=r.receipt_text, receipt_at=r.receipt_at, flags=r.flags,
        outbox_state=r.outbox_state)


def get(db: store.Executor, notification_id: int) -> StayNotification:
    r = stays.get(db, notification_id)
    if r is None:
        raise UsageError(f"no stay notification with id {notification_id}")
    return _open(r, db.key)


def list_all(db: store.Executor, states: tuple[str, ...] | None = None) -> list[StayNotification]:
    return [_open(r, db.key) for r in stays.list_all(db, states)]


def pending_with_time_left(db: store.Executor, now: datetime | None = None,
                           clock_synced_now: bool | None = None) -> list[dict[str, object]]:
    """Notifications not yet done, soonest deadline first, each with `time_left_seconds`, `overdue`,
    `alarm` (within an hour of the deadline) and `deadline_trusted`. The UI's alarm reads this.
    `now` and `clock_synced_now` default to the database's clock."""
    if now is None:
        now, clock_synced_now = db.clock.now(), db.clock.synchronised()
    return [n.to_json(now, clock_synced_now) for n in list_all(db, OPEN_STATES)]


def upstream_payload(n_id: int, facility_code: str, fields: dict[str, str | None], deadline_at: str, created_at: str,
                     clock_synced: bool) -> dict[str, object]:
    payload: dict[str, object] = {k: fields.get(k) for k in STATUTORY_FIELDS}
    payload.update({"notification_id": n_id, "facility_code": facility_code, "deadline_at": deadline_at,
                    "created_at": created_at, "clock_synced": clock_synced})
    return payload


def start(db: store.Database, visit_id: int, reason: str, *, facility_code: str, address_of_stay: str,
          stay_from: datetime | None = None, stay_until: datetime | None = None,
          passport_number: str | None = None, clock: Clock | None = None) -> StayNotification:
    """Raise the notification for a visit's patient and queue it for the hub, in one transaction.
    `clock`: the database's unless given (the command line's `--now` for tests)."""
    clock = clock or db.clock
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
    with store.transaction(db) as tx:
        key = tx.key
        v = stays.visit_patient(tx, visit_id)
        if v is None:
            raise UsageError(f"no visit with id {visit_id}")
        existing = stays.for_visit(tx, visit_id)
        if existing is not None:
            raise UsageError(f"visit {visit_id} already has stay notification {existing}; "
                             "a second one would be a duplicate at the police desk")
        id_number = datakey.reveal("patients.id_number", v.id_number, key)
        if not id_number and not passport_number:
            raise UsageError("the patient has no personal ID number on file; give --passport NUMBER "
                             "(the notification needs an ID or passport number)")
        fields: dict[str, str | None] = {
            "full_name": datakey.reveal("patients.full_name", v.full_name, key),
            "date_of_birth": datakey.reveal("patients.date_of_birth", v.date_of_birth, key),
            "id_number": id_number, "passport_number": passport_number if not id_number else None,
            "reason": reason, "stay_from": iso_utc(begin), "stay_until": iso_utc(stay_until) if stay_until else None,
            "address_of_stay": address_of_stay.strip()}
        sealed = {c: datakey.conceal(f"stay_notifications.{c}", fields[c], key) for c in _SEALED}
        n_id = stays.insert(tx, stays.NewStay(
            visit_id=visit_id, patient_id=v.patient_id, full_name=sealed["full_name"],
            date_of_birth=sealed["date_of_birth"], id_number=sealed["id_number"],
            passport_number=sealed["passport_number"], reason=sealed["reason"], stay_from=iso_utc(begin),
            stay_until=fields["stay_until"], address_of_stay=address_of_stay.strip(), deadline_at=iso_utc(deadline),
            created_at=iso_utc(now), clock_synced=synced, flags=flags))
        outbox.enqueue(tx, KIND, n_id, upstream_payload(n_id, facility_code, fields, iso_utc(deadline),
                                                        iso_utc(now), synced), now)
        stays.link_outbox(tx, n_id, KIND)
        result = get(tx, n_id)
    event(log, "stay_started", notification=n_id, visit_id=visit_id, deadline=iso_utc(deadline),
          clock_synced=synced)
    return result


def record_receipt(db: store.Database, notification_id: int, text: str, *,
                   clock: Clock | None = None) -> tuple[StayNotification, str]:
    """Record the receipt / case number of a submission made by hand (VNeID, the portal).

    Returns the notification and what happened: "withdrawn" (it was still queued; it will not be sent),
    "recorded" (it needed manual submission), or "kept_both" (it had already gone to the hub: both
    submissions exist and the row is flagged `submitted_twice` for the receptionist).
    """
    text = (text or "").strip()
    if not text:
        raise UsageError("the receipt text (case or receipt number) is required")
    now = iso_utc((clock or db.clock).now())
    with store.transaction(db) as tx:
        n = get(tx, notification_id)
        if n.state == "receipt_recorded" or n.receipt_text:
            raise UsageError(f"stay notification {notification_id} already has a receipt recorded "
                             f"({n.receipt_at})")
        # 'queued' means it never (possibly) reached the hub: the sender moves a row to 'sent' under
        # this same write lock before it sends, and back to 'queued' only when the hub surely did not get it.
        withdrawn = outbox.withdraw_queued(tx, KIND, notification_id)
        if withdrawn or n.state == "needs_manual" or n.outbox_state in ("withdrawn", "needs_manual"):
            outcome = "withdrawn" if withdrawn else "recorded"
            stays.record_receipt(tx, notification_id, text, now)
        else:
            outcome = "kept_both"
            stays.record_second_receipt(tx, notification_id, text, now, sorted(set(n.flags) | {"submitted_twice"}))
        result = get(tx, notification_id)
    event(log, "stay_receipt_recorded", notification=notification_id, outcome=outcome)
    return result, outcome


# --- called by the sender (sync/) inside its own transactions --------------------------------------
mark_sent = stays.mark_sent
mark_unsent = stays.mark_unsent
mark_acknowledged = stays.mark_acknowledged
mark_needs_manual = stays.mark_needs_manual
