"""The device API's per-request costs, in process (Django test client on the hub's settings): the token
cache and its invalidation, the middleware-free path for /v1, and a batch's queries not growing with
its size. The live-server tests (test_api, test_serve) cover the same paths over HTTP on both engines."""

from __future__ import annotations

import json
import time
import uuid

import pytest

pytest.importorskip("django")

from tests.hub.test_api import visit  # noqa: E402

FAC = "49901"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def django_hub(request, tmp_path_factory):
    """This process's Django on a database of this module's own, on each engine in turn (the dashboard's
    in-process set-up, tests/hub/dashboard_data.module_database)."""
    from tests.hub import dashboard_data as dd
    dd.module_database(request.param, request, tmp_path_factory)
    from kiosk_hub.registry.models import Facility
    Facility.objects.get_or_create(code=FAC, defaults=dict(name="Trạm Y tế xã Thử", district_code="499",
                                                           district_name="Huyện Thử", province_code="49",
                                                           province_name="Tỉnh Thử"))
    return request.param


def _enrol(name: str | None = None):
    from kiosk_hub.registry import services
    return services.enrol(FAC, name or f"inproc-{uuid.uuid4().hex[:8]}")


def test_token_lookups_are_cached_and_dropped_when_the_registry_changes(django_hub, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from kiosk_hub.ingest import devices
    from kiosk_hub.registry import services
    from kiosk_hub.registry.models import Device

    assert devices.CACHE_SECONDS > 0
    dev, token = _enrol()
    with CaptureQueriesContext(connection) as q:
        assert devices.by_token(token).pk == dev.pk
        assert devices.by_token(token).pk == dev.pk
    assert len(q) == 1, [x["sql"] for x in q]            # the second answer came from the cache
    # Revoking (CLI or dashboard: registry.services) is seen at the next request, not seconds later.
    services.revoke(dev.name, "thiết bị bị mất")
    assert devices.by_token(token).revoked_at is not None
    # Re-enrolling: the old token is unknown at once and the new one works.
    _, new = services.enrol(FAC, dev.name)
    assert devices.by_token(token) is None and devices.by_token(new).revoked_at is None
    # A change nobody announced (another host without a shared DATA_DIR, SQL by hand) holds for at most
    # the cache's seconds.
    Device.objects.filter(pk=dev.pk).update(revoked_at=timezone.now())
    assert devices.by_token(new).revoked_at is None
    later = time.monotonic() + devices.CACHE_SECONDS + 0.1
    monkeypatch.setattr(devices.time, "monotonic", lambda: later)
    assert devices.by_token(new).revoked_at is not None


def test_device_api_skips_the_dashboard_middleware(django_hub):
    from django.test import Client

    c = Client()
    r = c.get("/v1/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    assert r["X-Content-Type-Options"] == "nosniff"
    # LocaleMiddleware and the session middleware would have added these.
    assert "Content-Language" not in r and "Cookie" not in r.get("Vary", "") and not r.cookies
    r = c.get("/v1/no-such-thing")
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    page = c.get("/accounts/login/")
    assert page.status_code == 200 and "Content-Language" in page   # the dashboard keeps its middleware


def test_a_batch_costs_the_same_queries_at_any_size(django_hub):
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    _, token = _enrol()
    c = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    counts = {}
    for n in (1, 10, 200):
        items = [{"kind": "visit", "idempotency_key": str(uuid.uuid4()), "body": visit(10_000 * n + i, FAC)}
                 for i in range(n)]
        with CaptureQueriesContext(connection) as q:
            r = c.post("/v1/batch", json.dumps({"items": items}), content_type="application/json",
                       HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
        assert r.status_code == 200 and [x["status"] for x in r.json()["results"]] == [201] * n
        counts[n] = len(q)
        again = c.post("/v1/batch", json.dumps({"items": items}), content_type="application/json",
                       HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
        assert [x["replayed"] for x in again.json()["results"]] == [True] * n
    # The first also looked its token up (then cached); after that, a few statements per batch whatever
    # its size: the lock, the device row, prior keys, one INSERT per table, the day counts, the FHIR push
    # queue, and one look for queue updates that came before their visit (contract 1.2.0, ingest.changes).
    assert counts[10] == counts[200] == counts[1] - 1, counts
    assert counts[200] <= 10, counts
