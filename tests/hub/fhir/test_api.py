"""The FHIR read and search API in process (Django test client) on SQLite and PostgreSQL: scoping (403 for a read,
left out of a search), paging, _include, _lastUpdated, the CapabilityStatement, the access log, content type."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone

import pytest

pytest.importorskip("django")

from tests.hub import dashboard_data as dd  # noqa: E402
from tests.hub.fhir import corpus  # noqa: E402
from tests.hub.fhir.helpers import add_visit, auth, his_client  # noqa: E402
from tests.hub.fhir.validate import parse_both  # noqa: E402

DAY = date(2026, 11, 26)
FHIR_JSON = "application/fhir+json"


@pytest.fixture(scope="module", params=dd.ENGINES)
def hub(request, tmp_path_factory):
    """A seeded province (tests/hub/dashboard_data) with visits at 27001 (two days) and 27011."""
    db = dd.module_database(request.param, request, tmp_path_factory)
    rng = random.Random(15)
    visits = {"27001": [], "27011": [], "27001-before": []}
    for i, kind in enumerate(corpus.KINDS * 2):
        p = corpus.case(kind, rng, DAY)
        p.update(queue_number=i + 1, created_at=f"{DAY.isoformat()}T01:{i:02d}:00Z")
        visits["27001"].append(add_visit(p, "nghi-phong-1",
                                         received_at=datetime(2026, 11, 26, 2, i, tzinfo=timezone.utc)))
    for i in range(3):
        p = corpus.case("plain", rng, DAY)
        p.update(facility_code="27011", queue_number=i + 1)
        visits["27011"].append(add_visit(p, "dien-kim-1"))
        p = corpus.case("plain", rng, DAY - timedelta(days=1))
        p.update(queue_number=i + 1)
        visits["27001-before"].append(add_visit(p, "nghi-phong-1"))
    client_a, token_a = his_client(["27001"])
    client_b, token_b = his_client(["27011", "27012"])
    return {**db, "visits": visits, "a": token_a, "b": token_b, "client_a": client_a}


def get(url: str, token: str | None, **extra):
    from django.test import Client
    return Client().get(url, **(auth(token) if token else {}), **extra)


def search_all(url: str, token: str) -> list[dict]:
    """Follow `next` links; every page a valid searchset Bundle."""
    out, pages = [], 0
    while url:
        r = get(url.replace("http://testserver", ""), token)
        assert r.status_code == 200, r.content[:300]
        assert r["Content-Type"].startswith(FHIR_JSON)
        bundle = r.json()
        parse_both(bundle)
        assert bundle["type"] == "searchset"
        out += bundle.get("entry", [])
        url = next((lk["url"] for lk in bundle["link"] if lk["relation"] == "next"), None)
        pages += 1
        assert pages < 50
    return out


def test_metadata_says_what_is_supported(hub):
    r = get("/fhir/R4/metadata", None)
    assert r.status_code == 200 and r["Content-Type"].startswith(FHIR_JSON)
    cs = r.json()
    parse_both(cs)
    assert cs["fhirVersion"] == "4.0.1"
    res = {x["type"]: x for x in cs["rest"][0]["resource"]}
    assert set(res) == {"Patient", "Encounter", "Coverage", "CoverageEligibilityResponse", "Organization",
                        "Location", "CodeSystem"}
    assert [p["name"] for p in res["Encounter"]["searchParam"]] == ["date", "location", "_lastUpdated", "_count"]
    assert res["Encounter"]["searchInclude"] == ["Encounter:patient"]
    # read-only, truly: nothing else answers
    assert all({i["code"] for i in x["interaction"]} <= {"read", "search-type"} for x in res.values())
    assert get("/fhir/R4/Patient", hub["a"]).status_code == 404      # no Patient search offered


def test_a_days_encounters_with_patients_paged(hub):
    url = f"/fhir/R4/Encounter?date={DAY.isoformat()}&location=Location/station-27001&_include=Encounter:patient&_count=5"
    entries = search_all(url, hub["a"])
    matches = [e["resource"] for e in entries if e["search"]["mode"] == "match"]
    includes = [e["resource"] for e in entries if e["search"]["mode"] == "include"]
    assert len(matches) == len(hub["visits"]["27001"]) == 22
    assert len({m["id"] for m in matches}) == 22                      # pages neither overlap nor skip
    assert all(m["resourceType"] == "Encounter" for m in matches)
    assert all(m["location"][0]["location"]["reference"] == "Location/station-27001" for m in matches)
    subjects = {m["subject"]["reference"] for m in matches if "subject" in m}
    assert {f"Patient/{p['id']}" for p in includes} == subjects
    for p in includes:                                                # each included Patient can be read
        r = get(f"/fhir/R4/Patient/{p['id']}", hub["a"])
        assert r.status_code == 200 and r.json()["id"] == p["id"]
    # the other day is not in it; without location, the client's facilities only
    assert len(search_all(f"/fhir/R4/Encounter?date={DAY.isoformat()}", hub["a"])) == 22
    assert len(search_all(f"/fhir/R4/Encounter?date=ge{(DAY - timedelta(days=1)).isoformat()}", hub["a"])) == 25


def test_another_facilitys_data_is_refused_on_read_and_absent_from_search(hub):
    from kiosk_hub.fhir import ids
    theirs = hub["visits"]["27011"][0]
    enc_id = ids.of_visit("Encounter", theirs.pk)
    r = get(f"/fhir/R4/Encounter/{enc_id}", hub["a"])
    assert r.status_code == 403 and r.json()["resourceType"] == "OperationOutcome"
    assert get(f"/fhir/R4/Encounter/{enc_id}", hub["b"]).status_code == 200
    # a search naming their station gives nothing, not an error that says it exists
    entries = search_all(f"/fhir/R4/Encounter?date={DAY.isoformat()}&location=Location/station-27011", hub["a"])
    assert entries == []
    # B sees its patient; A may not read it (403), even knowing the id
    entries = search_all(f"/fhir/R4/Encounter?location=station-27011&_include=Encounter:patient", hub["b"])
    pid = next(e["resource"]["id"] for e in entries if e["resource"]["resourceType"] == "Patient")
    assert get(f"/fhir/R4/Patient/{pid}", hub["b"]).status_code == 200
    r = get(f"/fhir/R4/Patient/{pid}", hub["a"])
    assert r.status_code == 403 and r.json()["issue"][0]["code"] == "forbidden"
    # and so for the eligibility answer of their visit
    elig = ids.of_visit("CoverageEligibilityResponse", theirs.pk)
    assert get(f"/fhir/R4/CoverageEligibilityResponse/{elig}", hub["a"]).status_code == 403


def test_reads_of_every_resource_of_a_visit_validate(hub):
    entries = search_all(f"/fhir/R4/Encounter?date={DAY.isoformat()}&_include=Encounter:patient", hub["a"])
    seen = set()
    for e in entries:
        res = e["resource"]
        if res["resourceType"] != "Encounter":
            continue
        refs = [res["location"][0]["location"]["reference"], res["serviceProvider"]["reference"]]
        refs += [x["valueReference"]["reference"] for x in res["extension"] if "valueReference" in x]
        for ref in refs:
            r = get(f"/fhir/R4/{ref}", hub["a"])
            assert r.status_code == 200, (ref, r.content[:200])
            body = r.json()
            parse_both(body)
            seen.add(body["resourceType"])
            if body["resourceType"] == "CoverageEligibilityResponse" and "insurance" in body:
                cov = get(f"/fhir/R4/{body['insurance'][0]['coverage']['reference']}", hub["a"])
                assert cov.status_code == 200
                parse_both(cov.json())
                seen.add("Coverage")
            if body["resourceType"] == "Location" and "partOf" in body:
                up = get(f"/fhir/R4/{body['partOf']['reference']}", hub["a"]).json()
                parse_both(up)
                parse_both(get(f"/fhir/R4/{up['partOf']['reference']}", hub["a"]).json())
    assert seen == {"Location", "Organization", "CoverageEligibilityResponse", "Coverage"}
    for cs in ("eligibility-result", "beneficiary-group", "service", "queue-state", "identity-flag"):
        r = get(f"/fhir/R4/CodeSystem/{cs}", hub["a"])
        assert r.status_code == 200
        parse_both(r.json())


def test_ids_are_opaque_and_unknown_or_forged_ids_are_404(hub):
    from kiosk_hub.fhir import ids
    v = hub["visits"]["27001"][0]
    good = ids.of_visit("Encounter", v.pk)
    tag, pk = good.split("-")
    forged = f"{'a' * 10 if tag != 'a' * 10 else 'b' * 10}-{pk}"
    assert get(f"/fhir/R4/Encounter/{forged}", hub["a"]).status_code == 404
    assert get(f"/fhir/R4/Patient/{v.payload['patient']['id_number']}", hub["a"]).status_code == 404
    assert get(f"/fhir/R4/Encounter/{good}", hub["a"]).status_code == 200


def test_last_updated_and_bad_parameters(hub):
    since = "2026-11-26T02:15:00Z"
    entries = search_all(f"/fhir/R4/Encounter?date={DAY.isoformat()}&_lastUpdated=ge{since}", hub["a"])
    want = [v for v in hub["visits"]["27001"] if v.received_at >= datetime(2026, 11, 26, 2, 15, tzinfo=timezone.utc)]
    assert len(entries) == len(want) == 7
    assert all(e["resource"]["meta"]["lastUpdated"] >= since for e in entries)
    for bad in ("identifier=040195001234", "date=26/11/2026", "date=ap2026-11-26", "_include=Encounter:location",
                "_count=x", "location=27001", "_lastUpdated=2026-11-26T02:15:00", "_format=xml"):
        r = get(f"/fhir/R4/Encounter?{bad}", hub["a"])
        assert r.status_code == 400, bad
        assert r.json()["resourceType"] == "OperationOutcome"
        assert "040195001234" not in r.content.decode()
    r = get("/fhir/R4/Encounter?_count=0", hub["a"])
    assert r.json()["total"] == 25 and "entry" not in r.json()


def test_tokens_and_methods(hub):
    from kiosk_hub.fhir import clients
    assert get("/fhir/R4/Encounter", None).status_code == 401
    r = get("/fhir/R4/Encounter", "not-a-token")
    assert r.status_code == 401 and r["WWW-Authenticate"].startswith("Bearer")
    from django.test import Client
    assert Client().post("/fhir/R4/Encounter", {}, **auth(hub["a"])).status_code == 405
    client, token = clients.add("his-revoked", ["27001"], actor="test")
    assert get("/fhir/R4/Encounter?_count=1", token).status_code == 200
    clients.revoke("his-revoked", actor="test")
    assert get("/fhir/R4/Encounter?_count=1", token).status_code == 403
    with pytest.raises(clients.ClientError):
        clients.add("his-x", ["99999"])


def test_every_read_is_in_the_access_log_without_identity(hub):
    from kiosk_hub.fhir.models import Access
    v = hub["visits"]["27001"][1]
    before = Access.objects.count()
    from kiosk_hub.fhir import ids
    enc = ids.of_visit("Encounter", v.pk)
    get(f"/fhir/R4/Encounter/{enc}", hub["a"])
    get(f"/fhir/R4/Encounter?date={DAY.isoformat()}&_count=3", hub["a"])
    get(f"/fhir/R4/Encounter/{ids.of_visit('Encounter', hub['visits']['27011'][0].pk)}", hub["a"])
    rows = list(Access.objects.order_by("id")[before:])
    assert [(r.interaction, r.resource_type, r.status) for r in rows] == [
        ("read", "Encounter", 200), ("search-type", "Encounter", 200), ("read", "Encounter", 403)]
    assert rows[0].resource_id == enc and rows[0].client_id == hub["client_a"].pk
    assert rows[1].params == "_count,date" and rows[1].results == 3
    text = " ".join(f"{r.resource_id} {r.params}" for r in rows)
    p = v.payload["patient"]
    assert all(x not in text for x in filter(None, (p.get("id_number"), p.get("card_number"), p.get("full_name"))))
