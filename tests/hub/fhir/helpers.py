"""Test helpers: a HIS client and visits written straight into the hub's database (in-process Django)."""

from __future__ import annotations

import itertools
import uuid
from datetime import date, datetime, timedelta, timezone

_n = itertools.count(1)


def his_client(facilities: list[str], name: str | None = None) -> tuple[object, str]:
    """A HIS client for these facility codes and its bearer token (kiosk_hub.fhir.clients.add)."""
    from kiosk_hub.fhir import clients
    return clients.add(name or f"his-{uuid.uuid4().hex[:8]}", facilities, actor="test")


def add_visit(payload: dict, device_name: str, received_at: datetime | None = None):
    """A visit as the device API stores it (ingest.models.Visit) for `payload`."""
    from kiosk_hub.ingest.models import Visit
    from kiosk_hub.registry.models import Device

    dev = Device.objects.get(name=device_name)
    created = datetime.fromisoformat(payload["created_at"].replace("Z", "+00:00"))
    return Visit.objects.create(
        device=dev, facility_id=payload["facility_code"], record_id=payload["visit_id"],
        idempotency_key=str(uuid.uuid4()), document=payload.get("document"), checked_in_at=created,
        day=date.fromisoformat(payload["visit_date"]), queue_number=payload["queue_number"],
        eligibility_code=(payload.get("eligibility") or {}).get("result_code", ""), payload=payload,
        received_at=received_at or created + timedelta(seconds=5))


def auth(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


UTC = timezone.utc
