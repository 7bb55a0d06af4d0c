"""The contract 1.2.0 is valid OpenAPI, and every answer of the live hub (both engines) matches it."""

from __future__ import annotations

import json
import uuid

import pytest
import requests

from tests.hub import contract
from tests.hub.test_api import HEARTBEAT, MALFORMED, Device, stay, visit


def test_spec_is_valid_openapi_31_version_1_2_0():
    from openapi_spec_validator import validate
    assert contract.SPEC["info"]["version"] == "1.2.0"
    validate(contract.SPEC)
    for p in ("/v1/visits", "/v1/stay-notifications", "/v1/audit-entries", "/v1/visit-updates", "/v1/batch",
              "/v1/roster/updates", "/v1/roster/files/{file_id}", "/v1/eligibility", "/v1/health", "/v1/heartbeat",
              "/healthz", "/readyz"):
        assert p in contract.SPEC["paths"]


def test_hub_routes_and_errors_are_all_in_the_contract():
    # Read from the source (importing the views needs a configured Django; the hub runs in its own process).
    import ast
    import re
    from pathlib import Path
    ingest = Path(__file__).resolve().parents[2] / "hub" / "kiosk_hub" / "ingest"
    urls = (ingest / "urls.py").read_text()
    for route in re.findall(r'path\("([^"]+)', urls):
        route = "/v1/" + re.sub(r"<int:(\w+)>", r"{\1}", route)
        assert route in contract.SPEC["paths"], route
    tree = ast.parse((ingest / "validate.py").read_text())
    stay_fields = next(ast.literal_eval(n.value) for n in ast.walk(tree)
                       if isinstance(n, ast.Assign) and getattr(n.targets[0], "id", "") == "STAY_FIELDS")
    assert set(contract.SPEC["components"]["schemas"]["StayNotification"]["properties"]) == stay_fields
    src = "".join(p.read_text() for p in ingest.glob("*.py"))
    codes = set(re.findall(r'error\(\d{3}, "([a-z_]+)"', src)) | set(re.findall(r'"error": "([a-z_]+)"', src))
    assert len(codes) > 10
    assert codes <= set(contract.SPEC["components"]["schemas"]["Error"]["properties"]["error"]["enum"])


def test_test_bodies_follow_the_contract():
    contract.validate("Visit", visit(1))
    contract.validate("StayNotification", stay(1))
    contract.validate("Heartbeat", HEARTBEAT)


def test_every_answer_of_the_live_hub_matches_the_contract(shared_hub, tmp_path):
    url, hub = shared_hub.url, shared_hub.hub
    d = Device(shared_hub)
    answers = []
    a = answers.append
    a(requests.get(url + "/v1/health", timeout=10))
    a(requests.get(url + "/healthz", timeout=10))
    a(requests.get(url + "/readyz", timeout=10))
    key = str(uuid.uuid4())
    a(d.post("/v1/visits", visit(1), key))
    a(d.post("/v1/visits", visit(1), key))                      # replay
    a(d.post("/v1/visits", visit(2), key))                      # 422 reused
    a(d.post("/v1/visits", visit(3, facility="40231")))         # 422 facility_mismatch
    a(d.post("/v1/visits", {"visit_id": "x"}))                  # 400 invalid
    a(d.raw("/v1/visits", MALFORMED["lone surrogate"]))         # 400 malformed
    a(d.s.post(url + "/v1/visits", json=visit(4), timeout=10))  # 400 no key
    a(requests.post(url + "/v1/visits", json=visit(4), timeout=10))  # 401
    a(d.post("/v1/stay-notifications", stay(1)))
    a(d.post("/v1/audit-entries", {"seq": 1}))
    upd = {"visit_id": 1, "facility_code": visit(1)["facility_code"],
           "seq": 1, "state": "done", "services": ["kham_benh"], "changed_at": "2026-11-26T03:00:00Z"}
    contract.validate("VisitUpdate", upd)
    ukey = str(uuid.uuid4())
    a(d.post("/v1/visit-updates", upd, ukey))                   # 1.2.0: 201
    a(d.post("/v1/visit-updates", upd, ukey))                   # replay
    a(d.post("/v1/visit-updates", {**upd, "seq": 2}, ukey))     # 422 reused
    a(d.post("/v1/visit-updates", {**upd, "facility_code": "40231"}))  # 422 facility_mismatch
    a(d.post("/v1/visit-updates", {**upd, "state": "called"}))  # 400 invalid
    a(d.post("/v1/batch", {"items": [{"kind": "visit_update", "idempotency_key": str(uuid.uuid4()),
                                      "body": {**upd, "visit_id": 99, "seq": 3}}]}))  # before its visit: 201
    a(d.post("/v1/batch", {"items": [{"kind": "visit", "idempotency_key": str(uuid.uuid4()), "body": visit(5)},
                                     {"kind": "stay_notification", "idempotency_key": str(uuid.uuid4()),
                                      "body": stay(2, facility="40231")}]}))
    a(d.post("/v1/batch", {"items": []}))
    a(d.s.post(url + "/v1/heartbeat", json=HEARTBEAT, timeout=10))
    a(d.s.post(url + "/v1/heartbeat", json={**HEARTBEAT, "full_name": "X"}, timeout=10))
    a(d.s.get(url + "/v1/roster/updates", timeout=10))
    a(d.s.get(url + "/v1/roster/updates", params={"since": "x"}, timeout=10))
    snap = tmp_path / "s.jsonl"
    snap.write_text(json.dumps({"roster": "snapshot", "version": 7 + len(str(uuid.uuid4()))}) + "\n{}\n")
    hub.cli_json("roster", "publish", str(snap))
    f = d.s.get(url + "/v1/roster/updates", timeout=10).json()["files"][0]
    a(d.s.get(url + f["url"], timeout=10))
    a(d.s.get(url + f["url"], headers={"Range": "bytes=1-3"}, timeout=10))
    a(d.s.get(url + f["url"], headers={"Range": "bytes=999999-"}, timeout=10))
    a(d.s.head(url + f["url"], timeout=10))
    a(d.s.get(url + "/v1/roster/files/999999", timeout=10))
    a(d.s.post(url + "/v1/eligibility", json={"card_number": "HS4400195001234", "full_name": "A"}, timeout=10))
    a(d.s.get(url + "/v1/visits", timeout=10))                  # 405
    a(d.s.get(url + "/v1/nothing-here", timeout=10))            # 404
    hub.cli_json("revoke", "--name", d.name)
    a(d.post("/v1/visits", visit(6)))                           # 403
    for r in answers:
        contract.check(r)
    statuses = {r.status_code for r in answers}
    assert {200, 201, 206, 400, 401, 403, 404, 405, 416, 422, 503} <= statuses
