"""Retention and erasure on the hub (docs/privacy.md): personal fields of visits and stay notifications
are purged after the retention period; `kiosk-hub person erase` follows the kiosk's `kiosk person erase`.

What stays after either: the record's existence, facility, day, document kind, queue number,
eligibility result code and times, which the province's statistics and duties rest on.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import StayNotification, Visit

VISIT_PERSONAL = ("patient", "card")   # card (1.2.0): the BHYT card's validity, registered facility, group
STAY_PERSONAL = ("full_name", "date_of_birth", "id_number", "passport_number", "address_of_stay", "reason")
_BATCH = 1000


def scrub_visit(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k not in VISIT_PERSONAL} | {"purged": True}


def scrub_stay(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k not in STAY_PERSONAL} | {"purged": True}


def mask(id_number: str) -> str:
    s = (id_number or "").strip()
    return "*" * max(0, len(s) - 4) + s[-4:]


def purge(days: int | None = None, *, dry_run: bool = False) -> dict[str, Any]:
    """Purge personal fields of records received more than `days` ago (default HUB_RETENTION_DAYS)."""
    days = settings.HUB_RETENTION_DAYS if days is None else days
    cutoff = timezone.now() - timedelta(days=days)
    out = {"retention_days": days, "cutoff": cutoff.isoformat(timespec="seconds"), "dry_run": dry_run}
    for name, model, scrub in (("visits", Visit, scrub_visit), ("stay_notifications", StayNotification, scrub_stay)):
        qs = model.objects.filter(received_at__lt=cutoff, purged_at__isnull=True)
        if dry_run:
            out[name] = qs.count()
            continue
        n = 0
        while True:
            with transaction.atomic():
                rows = list(qs.select_for_update().only("pk", "payload")[:_BATCH])
                now = timezone.now()
                for r in rows:
                    r.payload, r.purged_at = scrub(r.payload), now
                model.objects.bulk_update(rows, ["payload", "purged_at"])
            n += len(rows)
            if len(rows) < _BATCH:
                break
        out[name] = n
    return out


def erase_person(id_number: str) -> dict[str, Any]:
    """Erase what the hub holds about one ID number, keeping (and saying why) what a duty requires."""
    visits = list(Visit.objects.filter(payload__patient__id_number=id_number, purged_at__isnull=True))
    stays = list(StayNotification.objects.filter(payload__id_number=id_number, purged_at__isnull=True))
    kept, erased = [], {"visits": 0, "stay_notifications": 0}
    now = timezone.now()
    with transaction.atomic():
        for v in visits:
            v.payload, v.purged_at = scrub_visit(v.payload), now
            erased["visits"] += 1
        Visit.objects.bulk_update(visits, ["payload", "purged_at"])
        done = []
        for s in stays:
            if s.state != "acknowledged" and s.deadline_at > now - timedelta(days=30):
                kept.append({"record": f"stay_notification:{s.pk}",
                             "reason": "a stay notification the police have not yet acknowledged is kept "
                                       "(Luật Cư trú: the facility's duty to notify); erase again afterwards"})
                continue
            s.payload, s.purged_at = scrub_stay(s.payload), now
            done.append(s)
        StayNotification.objects.bulk_update(done, ["payload", "purged_at"])
        erased["stay_notifications"] = len(done)
    kept.append({"record": "visits", "reason": "each visit's facility, day, document kind and eligibility code stay "
                                               "(no identity): the province's use statistics and BHYT counts"})
    kept.append({"record": "audit_entries", "reason": "audit copies name records by id only and prove lawful "
                                                      "processing"})
    return {"found": {"visits": len(visits), "stay_notifications": len(stays)}, "erased": erased, "kept": kept,
            "masked_id": mask(id_number)}
