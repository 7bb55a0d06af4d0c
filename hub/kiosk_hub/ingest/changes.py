"""Queue changes of visits (contract 1.2.0 `visit_update`): stored in order, applied newest-seq-wins.

Every update the hub accepts becomes one VisitChange row, kept for good (the FHIR push sends a visit's
changes in `seq` order). The Visit itself carries the state of the highest `seq` held: an update that
arrives after a newer one is stored with `late` set and changes nothing; identity flags are the exception,
since a flag once raised stays raised, whatever order they come in.

An update may arrive before its visit (the same outbox order makes that rare: a visit withdrawn or held
back at the kiosk, a hub restored from an older dump): it is accepted and stored with no visit, and the
visit adopts its changes when it arrives. Both run inside writes.write_many's transaction, with the device's
write lock held, so two requests of one device never interleave here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Max

from . import bulk
from .models import Visit, VisitChange


def _flags(*sources: Any) -> dict[str, bool] | None:
    out: dict[str, bool] = {}
    for src in sources:
        for k, v in (src or {}).items():
            if v is True:
                out[k] = True
    return out or None


def write(device, rows: list[tuple[int, str, dict[str, Any]]], now: datetime) -> list[tuple[int, int]]:
    """Store the updates (item index, idempotency key, validated fields) and apply the newest to each visit.
    Returns (item index, VisitChange id) pairs, as bulk.insert does."""
    record_ids = sorted({f["record_id"] for _, _, f in rows})
    visits = {r: (pk, seq, flags) for pk, r, seq, flags in Visit.objects.filter(
        device=device, record_id__in=record_ids).order_by("id").values_list("pk", "record_id", "state_seq",
                                                                            "identity_flags")}
    held = dict(VisitChange.objects.filter(device=device, record_id__in=record_ids).values("record_id")
                .annotate(m=Max("seq")).values_list("record_id", "m"))
    best: dict[int, int] = {}          # record_id -> seq known so far (held, then this batch in order)
    for r in record_ids:
        best[r] = max(visits[r][1] if r in visits else 0, held.get(r) or 0)
    ops = connection.ops
    stamp = ops.adapt_datetimefield_value(now)
    values, newest, raised = [], {}, {}
    for i, key, f in rows:
        r = f["record_id"]
        late = f["seq"] <= best[r]
        if not late:
            best[r] = f["seq"]
            newest[r] = f
        if f.get("identity_flags"):
            raised[r] = _flags(raised.get(r), f["identity_flags"])
        values.append((device.pk, device.facility_id, r, visits[r][0] if r in visits else None, key, f["seq"],
                       f["state"], bulk.as_json(f["services"]), ops.adapt_datetimefield_value(f["changed_at"]),
                       stamp, late, bulk.as_json(f.get("identity_flags")) if f.get("identity_flags") else None))
    created = bulk.insert("ingest_visitchange", values, (
        "device_id", "facility_id", "record_id", "visit_id", "idempotency_key", "seq", "state", "services",
        "changed_at", "received_at", "late", "identity_flags"), [i for i, _, _ in rows])
    _apply_many([(visits[r][0], f) for r, f in newest.items() if r in visits], now)
    for r in raised:
        if r in visits:
            Visit.objects.filter(pk=visits[r][0]).update(identity_flags=_flags(visits[r][2], raised[r]), updated_at=now)
    return created


def _apply_many(rows: list[tuple[int, dict[str, Any]]], now: datetime) -> None:
    """One statement for the batch: each visit takes its newest update, unless it already holds a higher seq."""
    if not rows:
        return
    ops = connection.ops
    pg = connection.vendor == "postgresql"
    one = "(%s::bigint, %s::bigint, %s, %s::jsonb, %s::timestamptz)" if pg else "(%s, %s, %s, %s, %s)"
    params = [v for pk, f in rows for v in (pk, f["seq"], f["state"], bulk.as_json(f["services"]),
                                            ops.adapt_datetimefield_value(f["changed_at"]))]
    # VALUES columns are column1..column5 on both engines (neither needs an alias list).
    with connection.cursor() as c:
        c.execute("UPDATE ingest_visit SET state = u.column3, state_seq = u.column2, services = u.column4, "
                  "state_changed_at = u.column5, updated_at = %s "
                  f"FROM (VALUES {', '.join([one] * len(rows))}) AS u "
                  "WHERE ingest_visit.id = u.column1 AND ingest_visit.state_seq < u.column2",
                  [ops.adapt_datetimefield_value(now), *params])


def adopt(device, new_visits: list[tuple[int, int]], now: datetime) -> None:
    """Visits just written (record_id, pk) take the changes that came before them."""
    if not new_visits:
        return
    pks = dict(new_visits)
    orphans = list(VisitChange.objects.filter(device=device, record_id__in=list(pks), visit__isnull=True)
                   .order_by("record_id", "seq", "id").values("pk", "record_id", "seq", "state", "services",
                                                              "changed_at", "identity_flags"))
    if not orphans:
        return
    for r, pk in pks.items():
        mine = [o for o in orphans if o["record_id"] == r]
        if not mine:
            continue
        VisitChange.objects.filter(pk__in=[o["pk"] for o in mine]).update(visit_id=pk)
        _apply(pk, max(mine, key=lambda o: (o["seq"], o["pk"])), _flags(*(o["identity_flags"] for o in mine)), now)


def _apply(visit_pk: int, change: dict[str, Any] | None, flags: dict[str, bool] | None, now: datetime) -> None:
    qs = Visit.objects.filter(pk=visit_pk)
    if change is not None:
        qs.filter(state_seq__lt=change["seq"]).update(
            state=change["state"], state_seq=change["seq"], services=change["services"],
            state_changed_at=change["changed_at"], updated_at=now)
    if flags:
        qs.update(identity_flags=flags, updated_at=now)
