"""Contract 1.2.0 on the hub, in process on SQLite and PostgreSQL: `visit_update` records (kept in order, newest
seq applied, a late one kept but changing nothing, one before its visit adopted when the visit comes, facility
binding, idempotency), the new visit fields validated, and the FHIR Encounter following the queue."""

from __future__ import annotations

import json
import uuid

import pytest

pytest.importorskip("django")

from tests.hub import contract  # noqa: E402
from tests.hub import dashboard_data as dd  # noqa: E402
from tests.hub.fhir.helpers import auth, his_client  # noqa: E402
from tests.hub.test_api import visit  # noqa: E402

FAC = "27001"   # a seeded station (tests/hub/dashboard_data)


@pytest.fixture(scope="module", params=dd.ENGINES)
def hub(request, tmp_path_factory):
    return dd.module_database(request.param, request, tmp_path_factory)


@pytest.fixture
def kiosk(hub):
    """A device of the test's own at FAC, and a client posting as it."""
    from django.test import Client

    from kiosk_hub.registry import services
    dev, token = services.enrol(FAC, f"upd-{uuid.uuid4().hex[:8]}")
    return dev, Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def update(vid: int, seq: int, state: str, services=(), at: str = "2026-11-26T03:00:00Z", **kw) -> dict:
    return {"visit_id": vid, "facility_code": FAC, "seq": seq, "state": state, "services": list(services),
            "changed_at": at, **kw}


def post(c, path: str, body, key: str | None = None):
    return c.post(path, json.dumps(body), content_type="application/json",
                  HTTP_IDEMPOTENCY_KEY=key or str(uuid.uuid4()))


def batch(c, *items):
    r = post(c, "/v1/batch", {"items": [{"kind": k, "idempotency_key": key or str(uuid.uuid4()), "body": b}
                                        for k, b, key in items]})
    assert r.status_code == 200, r.content
    return [(x["status"], x["body"]) for x in r.json()["results"]]


def held(dev, vid: int):
    from kiosk_hub.ingest.models import Visit, VisitChange
    v = Visit.objects.filter(device=dev, record_id=vid).first()
    log = list(VisitChange.objects.filter(device=dev, record_id=vid).order_by("id")
               .values_list("seq", "state", "late", "visit_id"))
    return v, log


def test_updates_apply_by_seq_and_every_one_is_kept(kiosk):
    dev, c = kiosk
    assert post(c, "/v1/visits", visit(1, FAC)).status_code == 201
    r = post(c, "/v1/visit-updates", update(1, 1, "being_seen", ["kham_benh"]))
    assert r.status_code == 201 and r.json()["kind"] == "visit_update" and r.json()["id"].startswith("U")
    contract.validate("Receipt", r.json())
    assert post(c, "/v1/visit-updates", update(1, 3, "done", ["kham_benh", "tiem_chung"],
                                               at="2026-11-26T03:20:00Z")).status_code == 201
    # seq 2 overtaken on the way (a retry): kept in the log, but it does not undo "done"
    assert post(c, "/v1/visit-updates", update(1, 2, "being_seen", ["kham_benh", "tiem_chung"])).status_code == 201
    v, log = held(dev, 1)
    assert (v.state, v.state_seq, v.services) == ("done", 3, ["kham_benh", "tiem_chung"])
    assert v.state_changed_at.isoformat() == "2026-11-26T03:20:00+00:00" and v.updated_at is not None
    assert log == [(1, "being_seen", False, v.pk), (3, "done", False, v.pk), (2, "being_seen", True, v.pk)]
    # the same update again under a new key (a kiosk restored from a backup): kept, late, nothing changes
    assert post(c, "/v1/visit-updates", update(1, 3, "done", ["kham_benh", "tiem_chung"])).status_code == 201
    assert held(dev, 1)[1][-1][:3] == (3, "done", True)


def test_an_update_before_its_visit_is_kept_then_adopted(kiosk):
    dev, c = kiosk
    # Single requests: the updates come first (the visit held back at the kiosk, or a hub restored from a dump).
    assert post(c, "/v1/visit-updates", update(7, 2, "left", at="2026-11-26T04:00:00Z")).status_code == 201
    assert post(c, "/v1/visit-updates", update(7, 1, "being_seen")).status_code == 201
    v, log = held(dev, 7)
    assert v is None and log == [(2, "left", False, None), (1, "being_seen", True, None)]
    assert post(c, "/v1/visits", visit(7, FAC)).status_code == 201
    v, log = held(dev, 7)
    assert (v.state, v.state_seq) == ("left", 2) and {vid for *_, vid in log} == {v.pk}
    # In one batch, update first: the visit written in the same batch takes it.
    assert [s for s, _ in batch(c, ("visit_update", update(8, 1, "cancelled"), None),
                                ("visit", visit(8, FAC), None))] == [201, 201]
    v, log = held(dev, 8)
    assert v.state == "cancelled" and log == [(1, "cancelled", False, v.pk)]
    # Visit first then its updates, in one batch (the usual outbox order).
    assert [s for s, _ in batch(c, ("visit", visit(9, FAC), None), ("visit_update", update(9, 1, "being_seen"), None),
                                ("visit_update", update(9, 2, "done"), None))] == [201] * 3
    assert held(dev, 9)[0].state == "done"


def test_refusals_write_nothing(kiosk):
    dev, c = kiosk
    post(c, "/v1/visits", visit(11, FAC))
    r = post(c, "/v1/visit-updates", update(11, 1, "done", facility_code="40123"))
    assert r.status_code == 422 and r.json()["error"] == "facility_mismatch"
    for bad in (update(11, 0, "done"), update(11, 1, "called"), update(11, 1, "done", ["a", "a"]),
                update(11, 1, "done", at="2026-11-26 03:00"), {**update(11, 1, "done"), "services": None},
                update(11, 1, "done", ["kham benh\n"]), update(11, 1, "done", identity_flags={"x": "yes"}),
                {k: v for k, v in update(11, 1, "done").items() if k != "seq"}):
        r = post(c, "/v1/visit-updates", bad)
        assert r.status_code == 400 and r.json()["error"] == "invalid", bad
    key = str(uuid.uuid4())
    assert post(c, "/v1/visit-updates", update(11, 1, "being_seen"), key).status_code == 201
    again = post(c, "/v1/visit-updates", update(11, 1, "being_seen"), key)
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert post(c, "/v1/visit-updates", update(11, 1, "done"), key).json()["error"] == "idempotency_key_reused"
    v, log = held(dev, 11)
    assert v.state == "being_seen" and [s for s, *_ in log] == [1]
    # without facility_code (a visit recorded before the kiosk kept it): the device's facility
    body = update(11, 2, "done")
    del body["facility_code"]
    assert post(c, "/v1/visit-updates", body).status_code == 201 and held(dev, 11)[0].state == "done"


def test_the_new_visit_fields_are_checked(kiosk):
    dev, c = kiosk
    good = visit(21, FAC, services=["kham_benh"], identity_flags={"chip_verified": True, "clone_suspected": False,
                                                                  "identity_mismatch": False},
                 card={"valid_from": "2026-01-01", "valid_to": "2026-12-31", "registered_facility": "27001",
                       "beneficiary_group": "HT"})
    good["patient"]["old_id_number"] = "186543210"
    contract.validate("Visit", good)
    assert post(c, "/v1/visits", good).status_code == 201
    named = visit(22, FAC, card={"registered_facility": {"code": "27001", "name": "Trạm Y tế xã Nghi Phong"}})
    contract.validate("Visit", named)
    assert post(c, "/v1/visits", named).status_code == 201
    for bad in (visit(23, FAC, card={"valid_to": "2026-02-30"}), visit(23, FAC, card={"registered_facility": "2700"}),
                visit(23, FAC, card={"beneficiary_group": "ht"}), visit(23, FAC, card="HT"),
                visit(23, FAC, services="kham_benh"), visit(23, FAC, identity_flags={"chip_verified": 1}),
                visit(23, FAC, patient={"old_id_number": "１８６５４３２１０"})):
        r = post(c, "/v1/visits", bad)
        assert r.status_code == 400 and r.json()["error"] == "invalid", bad


def test_the_encounter_follows_the_queue(kiosk):
    from django.test import Client
    dev, c = kiosk
    p = visit(31, FAC, identity_flags={"chip_verified": True, "clone_suspected": False, "identity_mismatch": False},
              card={"valid_from": "2026-01-01", "valid_to": "2026-12-31", "registered_facility": "27002",
                    "beneficiary_group": "HT"})
    p["patient"] |= {"card_number": "HT2401234567890", "old_id_number": "186543210"}
    assert post(c, "/v1/visits", p).status_code == 201
    _, token = his_client([FAC])
    his = Client(**auth(token))

    def encounter():
        from kiosk_hub.ingest.models import Visit
        bundle = his.get("/fhir/R4/Encounter", {"date": "2026-11-26", "location": f"Location/station-{FAC}",
                                                "_include": "Encounter:patient", "_count": "200"}).json()
        mine = f"{FAC}/{dev.name}/31"
        v = Visit.objects.get(device=dev, record_id=31)
        enc = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Encounter"
                   and any(i["value"] == mine for i in e["resource"]["identifier"]))
        return enc, his.get(f"/fhir/R4/Encounter/{enc['id']}").json(), v

    enc, read, _ = encounter()
    assert enc["status"] == "arrived" and read["status"] == "arrived"
    flags = [e["valueCoding"]["code"] for e in enc.get("extension", []) if e["url"].endswith(":identity-flag")]
    assert flags == ["chip_verified"]
    first_updated = read["meta"]["lastUpdated"]
    assert post(c, "/v1/visit-updates", update(31, 1, "being_seen", ["kham_benh"])).status_code == 201
    enc, read, _ = encounter()
    assert read["status"] == "in-progress" and read["serviceType"]["coding"][0]["code"] == "kham_benh"
    assert "end" not in read["period"]
    assert post(c, "/v1/visit-updates", update(31, 2, "done", ["kham_benh"], at="2026-11-26T03:45:00Z",
                                               identity_flags={"identity_mismatch": True})).status_code == 201
    enc, read, v = encounter()
    assert read["status"] == "finished" and enc["status"] == "finished"
    assert read["period"]["end"].startswith("2026-11-26T03:45:00")
    assert read["meta"]["lastUpdated"] >= first_updated
    flags = sorted(e["valueCoding"]["code"] for e in read["extension"] if e["url"].endswith(":identity-flag"))
    assert flags == ["chip_verified", "identity_mismatch"]
    # the card's 1.2.0 fields reach the Coverage
    cov_ref = next(e["valueReference"]["reference"] for e in read["extension"]
                   if e["url"].endswith(":eligibility-response"))
    cer = his.get(f"/fhir/R4/{cov_ref}").json()
    cov = his.get("/fhir/R4/" + cer["insurance"][0]["coverage"]["reference"]).json()
    assert cov["period"] == {"start": "2026-01-01", "end": "2026-12-31"}
    assert cov["class"][0]["value"] == "HT"
    reg = [e for e in cov.get("extension", []) if e["url"].endswith(":registered-primary-care-facility")]
    assert reg and "27002" in json.dumps(reg)


def test_a_batch_of_updates_costs_the_same_queries_at_any_size(kiosk):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    dev, c = kiosk
    counts = {}
    for n in (1, 10, 100):
        base = 1000 * n
        batch(c, *[("visit", visit(base + i, FAC), None) for i in range(n)])
        items = [("visit_update", update(base + i, 1, "being_seen"), None) for i in range(n)]
        with CaptureQueriesContext(connection) as q:
            assert [s for s, _ in batch(c, *items)] == [201] * n
        counts[n] = len(q)
    assert counts[1] == counts[10] == counts[100], counts


def test_erasure_takes_the_card_with_the_patient(kiosk):
    from kiosk_hub.ingest import privacy
    from kiosk_hub.ingest.models import Visit
    dev, c = kiosk
    p = visit(41, FAC, card={"valid_from": "2026-01-01", "registered_facility": "27001", "beneficiary_group": "HN"},
              services=["kham_thai"])
    p["patient"] |= {"id_number": "040195009941", "old_id_number": "186500041"}
    assert post(c, "/v1/visits", p).status_code == 201
    assert post(c, "/v1/visit-updates", update(41, 1, "done", ["kham_thai"])).status_code == 201
    assert privacy.erase_person("040195009941")["erased"]["visits"] == 1
    v = Visit.objects.get(device=dev, record_id=41)
    assert "patient" not in v.payload and "card" not in v.payload and "186500041" not in json.dumps(v.payload)
    assert v.state == "done" and v.purged_at is not None   # the queue (no identity) stays for the statistics


def test_last_updated_finds_an_encounter_changed_after_it_came(kiosk):
    from django.test import Client
    from django.utils import timezone

    from kiosk_hub.ingest.models import Visit
    dev, c = kiosk
    assert post(c, "/v1/visits", visit(51, FAC)).status_code == 201
    Visit.objects.filter(device=dev, record_id=51).update(received_at=timezone.now() - timezone.timedelta(hours=3))
    since = (timezone.now() - timezone.timedelta(hours=1)).isoformat(timespec="seconds")
    his = Client(**auth(his_client([FAC])[1]))
    mine = f"{FAC}/{dev.name}/51"

    def found(**params) -> bool:
        r = his.get("/fhir/R4/Encounter", {"date": "2026-11-26", "location": f"station-{FAC}", "_count": "200",
                                           **params})
        assert r.status_code == 200, r.content
        return any(i["value"] == mine for e in r.json().get("entry", []) for i in e["resource"]["identifier"])

    assert not found(_lastUpdated=f"ge{since}") and found(_lastUpdated=f"lt{since}")
    assert post(c, "/v1/visit-updates", update(51, 1, "done")).status_code == 201
    assert found(_lastUpdated=f"ge{since}") and not found(_lastUpdated=f"lt{since}")
