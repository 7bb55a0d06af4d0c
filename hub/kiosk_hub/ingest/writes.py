"""Idempotent writes of kiosk records: one transaction holds the records, their idempotency entries,
the per-day use counts and the replay counter, so an answer lost on the wire is answered again on the
retry and never written twice.

Each item is answered as if sent alone: 201 (written), the original answer with `replayed` (same key,
same body), 422 `idempotency_key_reused` (same key, another body), 409 `in_flight` (the key's first
request is still being processed), 400 `invalid`, 422 `facility_mismatch` (a record for a facility
this device is not enrolled for). Refused items write nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter as Tally
from datetime import datetime, timezone
from typing import Any

from django.db import connection, transaction
from django.utils import timezone as djtz

from kiosk_hub.registry.models import Device

from . import locks, validate
from .models import AuditEntry, Idempotency, StayNotification, Visit

Result = tuple[int, dict[str, Any], bool]   # (status, body, replayed)

IN_FLIGHT: Result = (409, {"error": "in_flight", "detail": "a request with this key is being processed"}, False)
PREFIX = {"visit": "V", "stay_notification": "S", "audit": "A"}


def iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def canonical(body: Any) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def request_hash(kind: str, body: Any) -> str:
    return hashlib.sha256(kind.encode() + b"\0" + canonical(body)).hexdigest()


def write_many(device: Device, items: list[tuple[str, str, Any]]) -> list[Result]:
    ids = [locks.lock_id(device.pk, key) for _, key, _ in items]
    if locks.uses_pg():
        with transaction.atomic():
            taken = locks.try_lock_pg(ids)
            return _write(device, items, taken)
    with locks.file_locks(ids) as taken:
        if not any(taken):
            return [IN_FLIGHT for _ in items]
        with transaction.atomic():
            return _write(device, items, taken)


def _write(device: Device, items, taken: list[bool]) -> list[Result]:
    out: list[Result | None] = [None if t else IN_FLIGHT for t in taken]
    todo = [i for i, t in enumerate(taken) if t]
    if not todo:
        return out  # type: ignore[return-value]
    now = djtz.now()
    # The device row is this device's write lock on PostgreSQL (one kiosk, one writer): taken after the
    # keys, so a key in flight is still answered 409 at once.
    Device.objects.filter(pk=device.pk).update(last_seen_at=now)
    prior = {r.key: r for r in Idempotency.objects.filter(device=device, key__in=[items[i][1] for i in todo])}
    at = iso(now)
    new_rows: dict[str, list[tuple[int, Any]]] = {"visit": [], "stay_notification": [], "audit": []}
    hashes: dict[int, str] = {}
    audit_seqs: dict[int, int] = {}
    replays = 0
    for i in todo:
        kind, key, body = items[i]
        h = request_hash(kind, body)
        p = prior.get(key)
        if p is not None:
            if p.request_hash != h:
                out[i] = (422, {"error": "idempotency_key_reused",
                                "detail": "this Idempotency-Key was used with a different body"}, False)
            else:
                replays += 1
                out[i] = (p.status, p.response, True)
            continue
        try:
            fields = validate.record(kind, body)
        except validate.Invalid as e:
            out[i] = (400, {"error": "invalid", "detail": str(e)}, False)
            continue
        fc = fields.get("facility_code")
        if fc is not None and fc != device.facility_id:
            out[i] = (422, {"error": "facility_mismatch",
                            "detail": f"this device is enrolled for facility {device.facility_id}, "
                                      f"not {fc}"}, False)
            continue
        if kind == "audit":
            if fields["seq"] in audit_seqs:
                out[i] = (422, {"error": "audit_seq_conflict", "detail": f"entry {fields['seq']} twice in one batch"},
                          False)
                continue
            audit_seqs[fields["seq"]] = i
        hashes[i] = h
        new_rows[kind].append((i, fields))

    # Audit copies already held under another key: the same entry is accepted again, another is a conflict.
    if audit_seqs:
        held = {a.seq: a for a in AuditEntry.objects.filter(device=device, seq__in=list(audit_seqs))}
        keep = []
        for i, f in new_rows["audit"]:
            a = held.get(f["seq"])
            if a is None:
                keep.append((i, f))
            elif canonical(a.payload) == canonical(items[i][2]):
                out[i] = (201, {"id": f"A{a.pk}", "kind": "audit", "received_at": iso(a.received_at)}, False)
                _remember(device, items[i], hashes[i], out[i], now)
            else:
                out[i] = (422, {"error": "audit_seq_conflict",
                                "detail": f"the hub holds another entry {f['seq']} for this device"}, False)
        new_rows["audit"] = keep

    created: list[tuple[int, Any]] = []
    if new_rows["visit"]:
        objs = [Visit(device=device, facility_id=device.facility_id, record_id=f["record_id"],
                      idempotency_key=items[i][1], document=f["document"], checked_in_at=f["checked_in_at"],
                      day=f["day"], queue_number=f["queue_number"], eligibility_code=f["eligibility_code"],
                      payload=items[i][2], received_at=now) for i, f in new_rows["visit"]]
        Visit.objects.bulk_create(objs)
        created += [(i, o) for (i, _), o in zip(new_rows["visit"], objs)]
        _count_use(device.facility_id, [(f["day"], f["document"]) for _, f in new_rows["visit"]])
    if new_rows["stay_notification"]:
        objs = [StayNotification(device=device, facility_id=device.facility_id, record_id=f["record_id"],
                                 idempotency_key=items[i][1], started_at=f["started_at"],
                                 deadline_at=f["deadline_at"], created_at=f["created_at"], payload=items[i][2],
                                 received_at=now) for i, f in new_rows["stay_notification"]]
        StayNotification.objects.bulk_create(objs)
        created += [(i, o) for (i, _), o in zip(new_rows["stay_notification"], objs)]
    if new_rows["audit"]:
        objs = [AuditEntry(device=device, idempotency_key=items[i][1], seq=f["seq"], entry_hash=f["entry_hash"],
                           prev_hash=f["prev_hash"], payload=items[i][2], received_at=now)
                for i, f in new_rows["audit"]]
        AuditEntry.objects.bulk_create(objs)
        created += [(i, o) for (i, _), o in zip(new_rows["audit"], objs)]
    idem = []
    for i, obj in created:
        kind, key, _ = items[i]
        out[i] = (201, {"id": f"{PREFIX[kind]}{obj.pk}", "kind": kind, "received_at": at}, False)
        idem.append(Idempotency(device=device, key=key, kind=kind, request_hash=hashes[i], status=201,
                                response=out[i][1], created_at=now))
    Idempotency.objects.bulk_create(idem)
    if replays:
        _bump("replays_answered", replays)
    return out  # type: ignore[return-value]


def _remember(device, item, h, result, now) -> None:
    Idempotency.objects.create(device=device, key=item[1], kind=item[0], request_hash=h, status=result[0],
                               response=result[1], created_at=now)


def _count_use(facility_code: str, days_docs: list[tuple[Any, str | None]]) -> None:
    """Upsert the per-day counts the use-of-readers page reads, in the visits' own transaction."""
    rows = Tally((d, doc or "unknown") for d, doc in days_docs)
    table = "ingest_dailyuse"
    with connection.cursor() as c:
        for (d, doc), n in rows.items():
            c.execute(f"INSERT INTO {table} (facility_id, day, document, visits) VALUES (%s, %s, %s, %s) "
                      f"ON CONFLICT (facility_id, day, document) DO UPDATE SET visits = {table}.visits + excluded.visits",
                      [facility_code, d, doc, n])


def _bump(name: str, n: int) -> None:
    with connection.cursor() as c:
        c.execute("INSERT INTO ingest_counter (name, value) VALUES (%s, %s) "
                  "ON CONFLICT (name) DO UPDATE SET value = ingest_counter.value + excluded.value", [name, n])
