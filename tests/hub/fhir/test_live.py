"""Over HTTP against `kiosk-hub serve` (gunicorn) on both engines: a visit posted through the device API is read
back by a HIS client as valid FHIR, and the client is refused another facility's."""

from __future__ import annotations

import hashlib
import secrets

import pytest
import requests

from tests.hub.conftest import FACILITY, OTHER_FACILITY
from tests.hub.fhir.validate import parse_both
from tests.hub.test_api import Device, visit


def _his_client(hub, facilities: list[str]) -> str:
    """A HIS client row written straight into the hub's database (the CLI for it comes with push)."""
    token = secrets.token_urlsafe(32)
    now = "CURRENT_TIMESTAMP" if hub.engine == "sqlite" else "now()"
    name = f"his-{secrets.token_hex(4)}"
    hub.execute(f"INSERT INTO fhir_hisclient (name, token_hash, created_at) VALUES (%s, %s, {now})",
                (name, hashlib.sha256(token.encode()).hexdigest()))
    (pk,), = hub.query("SELECT id FROM fhir_hisclient WHERE name = %s", (name,))
    for code in facilities:
        hub.execute("INSERT INTO fhir_hisclient_facilities (hisclient_id, facility_id) VALUES (%s, %s)", (pk, code))
    return token


def test_his_reads_a_days_checkins_and_is_refused_another_station(live_hub):
    mine, theirs = Device(live_hub), Device(live_hub, facility=OTHER_FACILITY)
    r = mine.post("/v1/visits", visit(1))
    assert r.status_code == 201, r.text
    assert theirs.post("/v1/visits", visit(2, facility=OTHER_FACILITY)).status_code == 201
    token = _his_client(live_hub.hub, [FACILITY])
    s = requests.Session()
    s.headers.update({"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"})
    base = live_hub.url + "/fhir/R4"
    r = s.get(f"{base}/Encounter", params={"date": "2026-11-26", "location": f"Location/station-{FACILITY}",
                                           "_include": "Encounter:patient"}, timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/fhir+json")
    bundle = r.json()
    parse_both(bundle)
    assert bundle["total"] == 1
    enc, pat = (e["resource"] for e in bundle["entry"])
    assert enc["subject"]["reference"] == f"Patient/{pat['id']}"
    assert pat["name"][0] == {"use": "official", "text": "Trần Thị Lan Anh", "family": "Trần",
                              "given": ["Thị", "Lan", "Anh"]}
    assert pat["birthDate"] == "1995-05-12" and "040195001234" not in pat["id"]
    r = s.get(f"{base}/Patient/{pat['id']}", timeout=30)
    assert r.status_code == 200 and r.json() == pat
    # the other station's visit: not in a search, 403 on read
    other = requests.get(f"{base}/Encounter", params={"date": "2026-11-26"}, timeout=30,
                         headers={"Authorization": f"Bearer {_his_client(live_hub.hub, [OTHER_FACILITY])}"}).json()
    assert other["total"] == 1
    assert s.get(f"{base}/Encounter/{other['entry'][0]['resource']['id']}", timeout=30).status_code == 403
    assert s.get(f"{base}/Encounter", params={"location": f"station-{OTHER_FACILITY}"}, timeout=30).json()["total"] == 0
    rows = live_hub.hub.query("SELECT interaction, status FROM fhir_access ORDER BY id")
    assert ("search-type", 200) in rows and ("read", 403) in rows
