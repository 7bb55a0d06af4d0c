"""Push to a HIS, in process on SQLite and PostgreSQL: visits stored by the device API's own write path
(ingest.writes) are queued per endpoint in that transaction and pushed by fhir.push to a test HIS on loopback
(tests/hub/fhir/his_stub.py, which validates every bundle with fhirclient and fhir.resources) through the fault
proxy (503s, dropped answers, resets, requests held past the push timeout). The HIS must end with each
Encounter once, at its latest state, having seen every state change in order; another facility's visits never
reach it; a revoked client gets nothing more."""

from __future__ import annotations

import random
import time
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest

pytest.importorskip("django")

from tests.faultproxy import FaultProxy  # noqa: E402
from tests.hub import dashboard_data as dd  # noqa: E402
from tests.hub.fhir import corpus  # noqa: E402
from tests.hub.fhir.his_stub import HisStub  # noqa: E402

DAY = date(2026, 11, 26)
UTC = timezone.utc


@pytest.fixture(scope="module", params=dd.ENGINES)
def hub(request, tmp_path_factory):
    return dd.module_database(request.param, request, tmp_path_factory)


@pytest.fixture
def fast(monkeypatch):
    from kiosk_hub.fhir import push
    monkeypatch.setattr(push, "BACKOFF_BASE", 0.02)
    monkeypatch.setattr(push, "BACKOFF_CAP", 0.1)
    monkeypatch.setattr(push, "TIMEOUT", 0.5)
    monkeypatch.setattr(push, "SETTLE", 1.5)
    return push


def _visit(rng: random.Random, kind: str, facility: str, i: int) -> dict:
    p = corpus.case(kind, rng, DAY)
    p.update(facility_code=facility, queue_number=i + 1, visit_id=10_000 + i,
             created_at=f"{DAY.isoformat()}T01:{i % 60:02d}:00Z")
    return p


def _store(device_name: str, payloads: list[dict]) -> list[int]:
    """Through the device API's write path (the ingest hook queues the pushes); the new visits' ids."""
    from kiosk_hub.ingest import writes
    from kiosk_hub.registry.models import Device
    dev = Device.objects.get(name=device_name)
    out = writes.write_many(dev, [("visit", str(uuid.uuid4()), p) for p in payloads])
    assert all(st == 201 for st, _, _ in out), out
    return [int(body["id"][1:]) for _, body, _ in out]


def _change(visit_id: int, seq: int, state: str, services: list[str], minute: int) -> None:
    """A receptionist's queue action as the kiosk sends it (contract 1.2.0 visit_update), through the device
    API's write path: stored as a VisitChange and queued for push in the same transaction."""
    from kiosk_hub.ingest import writes
    from kiosk_hub.ingest.models import Visit
    v = Visit.objects.select_related("device").get(pk=visit_id)
    body = {"visit_id": v.record_id, "seq": seq, "state": state, "services": services,
            "facility_code": v.facility_id, "changed_at": f"2026-11-26T03:{minute:02d}:00Z"}
    [(status, answer, _)] = writes.write_many(v.device, [("visit_update", str(uuid.uuid4()), body)])
    assert status == 201, answer


def _drain(push, rounds: int = 400, pause: float = 0.03) -> None:
    from kiosk_hub.fhir.models import PushItem
    for _ in range(rounds):
        push.push_once()
        if not PushItem.objects.filter(dead=False).exists():
            return
        time.sleep(pause)
    raise AssertionError(f"queue not drained: {list(PushItem.objects.values('attempts', 'last_status', 'settle'))}")


def _encounter_id(visit_pk: int) -> str:
    from kiosk_hub.fhir import ids
    return ids.of_visit("Encounter", visit_pk)


def test_pushes_survive_the_fault_proxy_exactly_once_in_order(hub, fast):
    from kiosk_hub.fhir import clients
    from kiosk_hub.fhir.models import Access, PushItem
    push = fast
    push.TIMEOUT = 3.0          # (a loaded machine validates slowly; the held phase below times out on purpose)
    rng = random.Random(18)
    with HisStub(token="his-secret") as his, FaultProxy("127.0.0.1", his.port, fail_rate=0.2, drop_rate=0.15,
                                                         reset_rate=0.05, seed=18) as proxy:
        client, _ = clients.add(f"his-{uuid.uuid4().hex[:6]}", ["27001"], actor="test")
        push.register(client, proxy.url + "/fhir", "his-secret")
        sent = [_visit(rng, k, "27001", i) for i, k in enumerate(corpus.KINDS * 2)]
        mine = _store("nghi-phong-1", sent)
        theirs = _store("dien-kim-1", [_visit(rng, "plain", "27011", 100 + i) for i in range(3)])
        assert PushItem.objects.filter(visit_id__in=theirs).count() == 0      # nothing queued for 27011
        # the state each visit was sent in (1.2.0 visits may carry one), then each change; the HIS's record
        # drops a state repeated right after itself (a retry), so the expectation does too
        expected = {pk: [p.get("status", "waiting")] for pk, p in zip(mine, sent)}

        def expect(pk, state):
            if expected[pk][-1] != state:
                expected[pk].append(state)
        # queue actions: called, then done / left / cancelled; services added on the way
        for n, pk in enumerate(mine[:10]):
            _change(pk, 1, "being_seen", ["kham_benh"], n)
            expect(pk, "being_seen")
            end = ("done", "left", "cancelled")[n % 3]
            _change(pk, 2, end, ["kham_benh", "xet_nghiem_rieng"], n + 10)
            expect(pk, end)
        # a change that arrived after a newer one changed nothing at the hub: never pushed
        _change(mine[0], 1, "waiting", [], 59)
        _drain(push)
        # then requests held in the network past the push timeout (their copies arrive late)
        # (1.5 s; the push timeout is 0.5 s): the last attempt's copy lands ~1 s after it timed out, by when
        # the newer state has been pushed; only the settle re-push leaves the HIS at the latest
        push.SETTLE = 3.0
        push.TIMEOUT = 0.5
        proxy.set(fail_rate=0.0, drop_rate=0.0, reset_rate=0.0, delay=1.5)
        for pk in mine[10:12]:
            _change(pk, 1, "being_seen", ["tiem_chung"], 30)
            expect(pk, "being_seen")
        for _ in range(3):
            time.sleep(0.2)
            push.push_once()
        proxy.set(delay=0.0)
        for pk in mine[10:12]:
            _change(pk, 2, "done", ["tiem_chung"], 40)
            expect(pk, "done")
        _drain(push)
        time.sleep(push.SETTLE + 1.0)                    # the settle re-pushes fall due; the held copies have landed
        _drain(push)
        assert not PushItem.objects.exists()
        c = proxy.counters
        assert c.failed and c.dropped and c.reset and c.delayed, c

    assert his.invalid == [] and his.refused == 0
    encs = his.encounters()
    want = {_encounter_id(pk): states for pk, states in expected.items()}
    # a push that got no answer (timeout, dropped answer, reset) may have reached the HIS later than its retry
    unsure = set(Access.objects.filter(client=client, interaction="push", status=0)
                 .values_list("resource_id", flat=True))
    held = {_encounter_id(pk) for pk in mine[10:12]}
    assert held & unsure            # the held phase left a push with no answer
    assert set(encs) == set(want)                                   # one Encounter per visit, no other station's
    from kiosk_hub.fhir import terminology
    for eid, states in want.items():
        assert encs[eid]["status"] == terminology.ENCOUNTER_STATUS[states[-1]], eid   # the latest state
        seen = his.states_seen()[eid]
        if eid in unsure:
            # a copy held past the timeout may land after a newer state: every change still arrives in order,
            # and the settle re-push leaves the HIS at the latest
            it = iter(seen)
            assert all(s in it for s in states), (eid, seen)
            assert seen[-1] == states[-1]
        else:
            assert seen == states, (eid, seen)                     # every change, in order, nothing else
    # each bundle carried the Encounter with its Patient, Coverage and eligibility answer
    assert any(r.bundle_types == ("Patient", "Coverage", "CoverageEligibilityResponse", "Encounter")
               for r in his.received)
    assert {("Patient", "Encounter")} <= {(t[0], t[-1]) for t in (r.bundle_types for r in his.received)}
    # every push attempt is in the access log, by opaque id only
    logged = Access.objects.filter(client=client, interaction="push")
    assert logged.filter(status=200).count() >= sum(len(s) for s in want.values())
    assert logged.exclude(status=200).exists()
    assert set(logged.values_list("resource_id", flat=True)) == set(want)


def test_a_stuck_endpoint_never_holds_up_another(hub, fast):
    """One HIS answers nothing (requests held past the timeout), the other takes its pushes at once."""
    from kiosk_hub.fhir import clients
    from kiosk_hub.fhir.models import PushEndpoint, PushItem
    push = fast
    rng = random.Random(7)
    with HisStub() as good, HisStub() as bad, FaultProxy("127.0.0.1", bad.port, delay=2.0) as stuck:
        a, _ = clients.add(f"his-{uuid.uuid4().hex[:6]}", ["27001"], actor="test")
        b, _ = clients.add(f"his-{uuid.uuid4().hex[:6]}", ["27001"], actor="test")
        push.register(a, stuck.url + "/fhir")
        push.register(b, good.url + "/fhir")
        import threading
        stop = threading.Event()
        t = threading.Thread(target=push.run, args=(stop,), kwargs={"interval": 0.05}, daemon=True)
        t.start()
        try:
            pks = _store("nghi-phong-1", [_visit(rng, "plain", "27001", 200 + i) for i in range(5)])
            deadline = time.monotonic() + 10
            while len(good.encounters()) < 5 and time.monotonic() < deadline:
                time.sleep(0.05)
            took = 10 - (deadline - time.monotonic())
        finally:
            stop.set()
            t.join(10)
        assert set(good.encounters()) == {_encounter_id(pk) for pk in pks}
        assert took < 2.0, took          # well before the stuck endpoint's first attempt even timed out
        ep = PushEndpoint.objects.get(client=a)
        assert PushItem.objects.filter(endpoint=ep, settle=False).count() == 5 and ep.failures >= 1
        PushItem.objects.filter(endpoint=ep).delete()


def test_revoked_client_gets_nothing_more_and_a_refused_bundle_is_parked(hub, fast):
    from kiosk_hub.fhir import clients
    from kiosk_hub.fhir.models import PushEndpoint, PushItem
    push = fast
    rng = random.Random(9)
    with HisStub() as his:
        c, _ = clients.add(f"his-{uuid.uuid4().hex[:6]}", ["27001"], actor="test")
        push.register(c, his.url)
        _store("nghi-phong-1", [_visit(rng, "plain", "27001", 300)])
        clients.revoke(c.name, actor="test")
        assert push.forget(c) == 1
        _store("nghi-phong-1", [_visit(rng, "plain", "27001", 301)])
        push.push_once()
        assert his.bundles == 0 and not PushItem.objects.filter(endpoint__client=c).exists()
    # a HIS that refuses a bundle as invalid (400): parked, and the queue moves on
    with HisStub() as his:
        c, _ = clients.add(f"his-{uuid.uuid4().hex[:6]}", ["27001"], actor="test")
        push.register(c, his.url)
        real = his.take
        calls = []

        def refuse_first(raw):
            calls.append(1)
            return (400, {"resourceType": "OperationOutcome", "issue": []}) if len(calls) == 1 else real(raw)
        his.take = refuse_first
        pks = _store("nghi-phong-1", [_visit(rng, "plain", "27001", 310 + i) for i in range(2)])
        push.push_once()
        ep = PushEndpoint.objects.get(client=c)
        assert ep.parked == 1 and PushItem.objects.filter(endpoint=ep, dead=True).count() == 1
        assert set(his.encounters()) == {_encounter_id(pks[1])}
        assert push.status()[-1]["parked"] >= 0
        row = next(r for r in push.status() if r["name"] == c.name)
        assert row["parked"] == 1 and row["pending"] == 0


def test_only_https_or_loopback():
    from kiosk_hub.fhir.push import PushError, check_url
    assert check_url("https://his.example.vn/fhir/") == "https://his.example.vn/fhir"
    assert check_url("http://127.0.0.1:8080/fhir") == "http://127.0.0.1:8080/fhir"
    assert check_url("http://[::1]:80/fhir") == "http://[::1]:80/fhir"
    for bad in ("http://his.example.vn/fhir", "http://10.0.0.5/fhir", "ftp://his/x", "his.example.vn",
                "https://user:pw@his.example.vn/fhir", ""):
        with pytest.raises(PushError):
            check_url(bad)


def test_backoff_doubles_to_a_cap_with_jitter():
    from kiosk_hub.fhir import push
    rng = random.Random(1)
    for n in range(1, 20):
        full = min(push.BACKOFF_CAP, push.BACKOFF_BASE * 2 ** (n - 1))
        waits = [push.backoff(n, rng) for _ in range(50)]
        assert all(full / 2 <= w <= full for w in waits)
        assert len(set(waits)) > 1
    assert push.backoff(50, rng) <= push.BACKOFF_CAP


def test_dashboard_shows_each_endpoints_lag_and_failures_to_province_admins(hub, fast):
    from django.test import Client
    from django.utils import translation

    from kiosk_hub.fhir import clients
    from kiosk_hub.fhir.models import PushItem
    push = fast
    rng = random.Random(11)
    name = f"his-dash-{uuid.uuid4().hex[:6]}"
    c, _ = clients.add(name, ["27001"], actor="test")
    push.register(c, "http://127.0.0.1:9/fhir")            # nothing listens there: every attempt fails
    _store("nghi-phong-1", [_visit(rng, "plain", "27001", 400 + i) for i in range(3)])
    push.push_once()
    PushItem.objects.filter(endpoint__client=c).update(created_at=datetime.now(UTC) - timedelta(minutes=10))
    admin = Client()
    assert admin.post("/accounts/login/", {"username": "admin", "password": dd.PASSWORD}).status_code == 302
    html = admin.get("/his/").content.decode()
    row = next(r for r in html.split("<tr") if name in r)
    assert 'class="lagging"' in row and "http://127.0.0.1:9/fhir" in row and "ConnectionError" in row
    assert ">3<" in row                                     # waiting
    assert 'href="/his/"' in html
    admin.post("/i18n/setlang/", {"language": "vi", "next": "/his/"})
    with translation.override("vi"):
        assert "Đẩy sang HIS" in admin.get("/his/").content.decode()
    station = Client()
    assert station.post("/accounts/login/", {"username": "tram27011", "password": dd.PASSWORD}).status_code == 302
    assert station.get("/his/").status_code in (302, 403)
    assert 'href="/his/"' not in station.get("/fleet/").content.decode()
    PushItem.objects.filter(endpoint__client=c).delete()
