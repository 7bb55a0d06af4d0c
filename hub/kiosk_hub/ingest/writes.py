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

from . import bulk, changes, locks, signals, validate
from .models import AuditEntry, Idempotency

Result = tuple[int, dict[str, Any], bool]   # (status, body, replayed)

IN_FLIGHT: Result = (409, {"error": "in_flight", "detail": "a request with this key is being processed"}, False)
PREFIX = {"visit": "V", "stay_notification": "S", "audit": "A", "visit_update": "U"}


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
    prior = {k: (h, st, resp) for k, h, st, resp in Idempotency.objects.filter(
        device=device, key__in=[items[i][1] for i in todo]).values_list("key", "request_hash", "status", "response")}
    at = iso(now)
    new_rows: dict[str, list[tuple[int, Any]]] = {"visit": [], "stay_notification": [], "audit": [],
                                                  "visit_update": []}
    hashes: dict[int, str] = {}
    audit_seqs: dict[int, int] = {}
    replays = 0
    for i in todo:
        kind, key, body = items[i]
        h = request_hash(kind, body)
        p = prior.get(key)
        if p is not None:
            if p[0] != h:
                out[i] = (422, {"error": "idempotency_key_reused",
                                "detail": "this Idempotency-Key was used with a different body"}, False)
            else:
                replays += 1
                out[i] = (p[1], p[2], True)
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

    # Rows go in with hand-built multi-row INSERTs (ingest.bulk: one statement per table, ids back by RETURNING).
    ops = connection.ops
    stamp = ops.adapt_datetimefield_value(now)
    created: list[tuple[int, int]] = []
    if new_rows["visit"]:
        created += bulk.insert("ingest_visit", [
            (device.pk, device.facility_id, f["record_id"], items[i][1], f["document"],
             ops.adapt_datetimefield_value(f["checked_in_at"]), ops.adapt_datefield_value(f["day"]),
             f["queue_number"], f["eligibility_code"], bulk.as_json(items[i][2]), stamp) for i, f in new_rows["visit"]],
            ("device_id", "facility_id", "record_id", "idempotency_key", "document", "checked_in_at", "day",
             "queue_number", "eligibility_code", "payload", "received_at"), [i for i, _ in new_rows["visit"]])
        _count_use(device.facility_id, [(f["day"], f["document"]) for _, f in new_rows["visit"]])
    if new_rows["stay_notification"]:
        created += bulk.insert("ingest_staynotification", [
            (device.pk, device.facility_id, f["record_id"], items[i][1], ops.adapt_datetimefield_value(f["started_at"]),
             ops.adapt_datetimefield_value(f["deadline_at"]), ops.adapt_datetimefield_value(f["created_at"]),
             "received", bulk.as_json(items[i][2]), stamp) for i, f in new_rows["stay_notification"]],
            ("device_id", "facility_id", "record_id", "idempotency_key", "started_at", "deadline_at", "created_at",
             "state", "payload", "received_at"), [i for i, _ in new_rows["stay_notification"]])
    if new_rows["audit"]:
        created += bulk.insert("ingest_auditentry", [
            (device.pk, items[i][1], f["seq"], f["entry_hash"], f["prev_hash"], bulk.as_json(items[i][2]), stamp)
            for i, f in new_rows["audit"]],
            ("device_id", "idempotency_key", "seq", "entry_hash", "prev_hash", "payload", "received_at"),
            [i for i, _ in new_rows["audit"]])
    # Contract 1.2.0: visits take the updates that came before them; updates are kept and the newest applied.
    if new_rows["visit"]:
        pks = dict(created)
        changes.adopt(device, [(f["record_id"], pks[i]) for i, f in new_rows["visit"]], now)
    if new_rows["visit_update"]:
        created += changes.write(device, [(i, items[i][1], f) for i, f in new_rows["visit_update"]], now)
    # In this transaction: the FHIR push queues a push per HIS endpoint (fhir.push.enqueue; ingest.signals).
    signals.visits_stored.send(sender=Device, visit_ids=[pk for i, pk in created if items[i][0] == "visit"],
                               change_ids=[pk for i, pk in created if items[i][0] == "visit_update"])
    idem = []
    for i, pk in created:
        kind, key, _ = items[i]
        out[i] = (201, {"id": f"{PREFIX[kind]}{pk}", "kind": kind, "received_at": at}, False)
        idem.append((device.pk, key, kind, hashes[i], 201, bulk.as_json(out[i][1]), stamp))
    if idem:
        bulk.insert("ingest_idempotency", idem,
                ("device_id", "key", "kind", "request_hash", "status", "response", "created_at"), None)
    if replays:
        _bump("replays_answered", replays)
    return out  # type: ignore[return-value]


def _remember(device, item, h, result, now) -> None:
    Idempotency.objects.create(device=device, key=item[1], kind=item[0], request_hash=h, status=result[0],
                               response=result[1], created_at=now)


def _count_use(facility_code: str, days_docs: list[tuple[Any, str | None]]) -> None:
    """Upsert the per-day counts the use-of-readers page reads, in the visits' own transaction (one
    statement for the whole batch)."""
    rows = Tally((d, doc or "unknown") for d, doc in days_docs)
    table = "ingest_dailyuse"
    ops = connection.ops
    with connection.cursor() as c:
        c.execute(f"INSERT INTO {table} (facility_id, day, document, visits) VALUES "
                  + ", ".join(["(%s, %s, %s, %s)"] * len(rows))
                  + f" ON CONFLICT (facility_id, day, document) DO UPDATE SET visits = {table}.visits + excluded.visits",
                  [v for (d, doc), n in rows.items() for v in (facility_code, ops.adapt_datefield_value(d), doc, n)])


def _bump(name: str, n: int) -> None:
    with connection.cursor() as c:
        c.execute("INSERT INTO ingest_counter (name, value) VALUES (%s, %s) "
                  "ON CONFLICT (name) DO UPDATE SET value = ingest_counter.value + excluded.value", [name, n])
