"""The OpenAPI 3.1 contract is valid, and the real hub's answers (`kiosk-hub serve`) to the kiosk's real
payloads match its schemas."""

import json
import uuid
from pathlib import Path

import jsonschema
import pytest
from openapi_spec_validator import validate

from sync.client import HubClient

SPEC = json.loads((Path(__file__).resolve().parents[2] / "sync" / "openapi" / "v1.json").read_text())


def schema(name):
    # Resolve local $refs by embedding the components.
    return {"$ref": f"#/components/schemas/{name}", "components": SPEC["components"]}


def check(name, instance):
    jsonschema.Draft202012Validator(schema(name)).validate(instance)


def test_spec_is_valid_openapi_31():
    assert SPEC["openapi"].startswith("3.1")
    validate(SPEC)


def test_every_path_the_kiosk_uses_is_in_the_contract():
    from sync import client
    used = {"/v1/batch", "/v1/roster/updates", "/v1/roster/files/{file_id}", "/v1/eligibility", "/v1/health",
            "/v1/heartbeat", *client.SINGLE_PATHS.values()}
    assert used <= set(SPEC["paths"])


def test_kiosk_payloads_and_hub_answers_match_schemas(service, clock, hub):
    from kiosk.services import stay_notification as sn
    from kiosk.domain import ScanEvent
    from kiosk.privacy.datakey import unseal_tree
    v = service.handle(ScanEvent("040195001234||Trần Thị Lan Anh|12051995|Nữ|Xóm 3|03062021".encode(), "serial"))
    sn.start(service.db, v.visit_id, "theo dõi", clock=clock, facility_code="40123", address_of_stay="Trạm")
    rows = service.db.execute("SELECT kind, idempotency_key, payload FROM outbox ORDER BY id").fetchall()
    bodies = {kind: unseal_tree(service.data_key, json.loads(p)) for kind, _, p in rows}
    check("Visit", bodies["visit"])
    check("StayNotification", bodies["stay_notification"])
    c = HubClient(hub.url, hub.token)
    answers = c.send_batch([(k, key, unseal_tree(service.data_key, json.loads(p))) for k, key, p in rows])
    check("BatchResults", {"results": [{"idempotency_key": a.idempotency_key, "status": a.status, "body": a.body,
                                        "replayed": a.replayed} for a in answers]})
    for a in answers:
        check("Receipt", a.body)
    check("RosterUpdates", c.roster_updates(None))
    bad = c.send_one("visit", str(uuid.uuid4()), {"visit_id": "x"})
    check("Error", bad.body)


def test_relay_without_gateway_account_is_503(hub):
    from sync.client import HubUnavailable
    with pytest.raises(HubUnavailable, match="503.*no national-gateway account"):
        HubClient(hub.url, hub.token).eligibility({"card_number": "HS4400195001234"})


def test_relay_through_the_national_lookup_adapter(tmp_path):
    from sync.client import HubUnavailable
    from kiosk.simulated.fake_gateway import FakeGateway
    from tests.hubproc import start_hub
    gw = FakeGateway().start()
    try:
        gw.add_card("HS4400195001234", answer={"maKetQua": "000", "maThe": "HS4400195001234", "hoTen": "Trần Thị Lan Anh",
                                              "gtTheTu": "01/01/2026", "gtTheDen": "31/12/2026"})
        acct = tmp_path / "gw.json"
        acct.write_text(json.dumps({"base_url": gw.url, "username": gw.username, "password": gw.password,
                                    "staff_name": "Nguyễn Thị Tiếp Đón", "staff_id_number": "001090000001"}))
        h = start_hub(tmp_path / "relayhub", "--gateway-account", str(acct))
        try:
            c = HubClient(h.url, h.token)
            got = c.eligibility({"card_number": "HS4400195001234", "full_name": "Trần Thị Lan Anh",
                                 "date_of_birth": "1995-05-12"})
            assert got["result_code"] == "000" and got["source"] == "gateway"
            assert gw.checks and gw.checks[-1]["hoTenCb"] == "Nguyễn Thị Tiếp Đón"
            with pytest.raises(HubUnavailable, match="400"):
                c.eligibility({"full_name": "X"})
            gw.fail_next = 5
            with pytest.raises(HubUnavailable, match="502"):
                c.eligibility({"card_number": "HS4400195001234", "full_name": "A", "date_of_birth": "1995"})
        finally:
            h.stop()
    finally:
        gw.stop()
