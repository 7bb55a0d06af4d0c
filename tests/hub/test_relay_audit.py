"""The eligibility relay (rate-limited per device, each lookup recorded without identity) and the audit
copies (validated on arrival; `kiosk-hub audit --json` gives the anchors with `highest_seq`)."""

from __future__ import annotations

import json
import uuid

import pytest

from sync.client import HubClient, HubUnavailable
from tests.hub import contract
from tests.hub.conftest import start_hub
from tests.hub.test_api import Device


@pytest.fixture
def gateway():
    from kiosk.simulated.fake_gateway import FakeGateway
    gw = FakeGateway().start()
    gw.add_card("HS4400195001234", answer={"maKetQua": "000", "maThe": "HS4400195001234", "hoTen": "Trần Thị Lan Anh",
                                          "gtTheTu": "01/01/2026", "gtTheDen": "31/12/2026"})
    yield gw
    gw.stop()


def test_relay_answers_limits_and_records_without_identity(hub_db, gateway, tmp_path):
    acct = tmp_path / "gw.json"
    acct.write_text(json.dumps({"base_url": gateway.url, "username": gateway.username, "password": gateway.password,
                                "staff_name": "Nguyễn Thị Tiếp Đón", "staff_id_number": "001090000001"}))
    hub_db.extra["KIOSK_HUB_ELIGIBILITY_PER_MINUTE"] = "3"
    live = start_hub(hub_db, "--gateway-account", str(acct), migrate=True)   # serve's own migrate, kept covered
    try:
        d = Device(live)
        q = {"card_number": "HS4400195001234", "full_name": "Trần Thị Lan Anh", "date_of_birth": "1995-05-12"}
        r = d.s.post(live.url + "/v1/eligibility", json=q, timeout=10)
        contract.check(r)
        assert r.status_code == 200 and r.json()["result_code"] == "000" and r.json()["source"] == "gateway"
        assert gateway.checks[-1]["hoTenCb"] == "Nguyễn Thị Tiếp Đón"
        # The kiosk's own relay client reads it.
        assert HubClient(live.url, d.token).eligibility(q)["result_code"] == "000"
        bad = d.s.post(live.url + "/v1/eligibility", json={**q, "card_number": "HS44００195001234"}, timeout=10)
        assert bad.status_code == 400 and "ASCII" in bad.json()["detail"]
        gateway.fail_next = 5
        r = d.s.post(live.url + "/v1/eligibility", json=q, timeout=30)
        contract.check(r)
        assert r.status_code == 502 and r.json()["error"] == "gateway_failed"
        gateway.fail_next = 0
        r = d.s.post(live.url + "/v1/eligibility", json=q, timeout=10)   # the 4th in the minute
        contract.check(r)
        assert r.status_code == 429 and r.json()["error"] == "rate_limited"
        assert 1 <= int(r.headers["Retry-After"]) <= 60
        with pytest.raises(HubUnavailable, match="429"):
            HubClient(live.url, d.token).eligibility(q)
        other = Device(live)   # the limit is per device
        assert other.s.post(live.url + "/v1/eligibility", json=q, timeout=10).status_code == 200
        rows = hub_db.query("SELECT d.name, l.result_code FROM ingest_eligibilitylookup l "
                            "JOIN registry_device d ON d.id = l.device_id ORDER BY l.id")
        assert rows == [(d.name, "000"), (d.name, "000"), (d.name, "error:gateway"), (other.name, "000")]
        cols = {c for (c,) in hub_db.query(
            "SELECT name FROM pragma_table_info('ingest_eligibilitylookup')" if hub_db.engine == "sqlite" else
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'ingest_eligibilitylookup'")}
        assert cols == {"id", "device_id", "at", "result_code"}   # no identity is kept
    finally:
        live.stop()


def _chain(n: int, start_prev: str = "0" * 64) -> list[dict]:
    from kiosk.privacy.audit import entry_hash
    out, prev = [], start_prev
    for seq in range(1, n + 1):
        e = {"seq": seq, "at": f"2026-11-26T02:{seq:02d}:00Z", "actor": "staff:1", "action": "visit_viewed",
             "record_kind": "visit", "record_id": str(seq), "purpose": "tiếp đón", "details": {"n": seq},
             "prev_hash": prev}
        e["entry_hash"] = entry_hash(prev, seq, e["at"], e["actor"], e["action"], e["record_kind"], e["record_id"],
                                     e["purpose"], json.dumps(e["details"], separators=(",", ":")))
        out.append(e)
        prev = e["entry_hash"]
    return out


def test_audit_copies_validated_and_anchors_with_highest_seq(shared_hub):
    hub = shared_hub.hub
    d = Device(shared_hub)
    chain = _chain(5)
    for e in chain[:3] + chain[4:]:       # entry 4 kept local (as `sent_upstream` entries are)
        r = d.post("/v1/audit-entries", e)
        contract.check(r)
        assert r.status_code == 201, r.text
    for bad in ({**chain[3], "seq": 0}, {**chain[3], "entry_hash": "XYZ"}, {**chain[3], "at": None},
                {**chain[3], "full_name": "Trần Thị Lan Anh"}, {**chain[3], "details": [1]}, "entry"):
        r = d.post("/v1/audit-entries", bad)
        assert r.status_code == 400 and r.json()["error"] == "invalid"
    # The same entry under a new key is accepted again; a different entry 2 is a conflict.
    assert d.post("/v1/audit-entries", chain[1]).status_code == 201
    r = d.post("/v1/audit-entries", {**chain[1], "purpose": "khác"})
    assert r.status_code == 422 and r.json()["error"] == "audit_seq_conflict"
    out = hub.cli("audit", "--name", d.name, "--json")
    assert out.returncode == 0, out.stderr
    anchors = json.loads(out.stdout)
    assert anchors["ok"] is True and anchors["entries"] == 4 and anchors["highest_seq"] == 5
    assert anchors["anchors"] == {str(e["seq"]): e["entry_hash"] for e in chain if e["seq"] != 4}
    assert anchors["links"]["5"] == chain[3]["entry_hash"]
    # The kiosk's verifier reads this file as it read the old hub's (the shape `kiosk audit verify --anchors` takes).
    assert anchors["first_broken"] is None and anchors["problem"] is None
    assert anchors["links"] == {str(e["seq"]): e["prev_hash"] for e in chain if e["seq"] != 4}
    # A copy altered on the hub is found.
    if hub.engine == "postgres":
        import psycopg
        with psycopg.connect(hub.db_url.replace("postgres://", "postgresql://"), autocommit=True) as c:
            c.execute("UPDATE ingest_auditentry SET payload = %s::jsonb WHERE seq = 2 AND device_id = "
                      "(SELECT id FROM registry_device WHERE name = %s)",
                      (json.dumps({**chain[1], "purpose": "đã sửa"}), d.name))
    else:
        import sqlite3
        c = sqlite3.connect(hub.db_url.removeprefix("sqlite:///"))
        c.execute("UPDATE ingest_auditentry SET payload = ? WHERE seq = 2 AND device_id = "
                  "(SELECT id FROM registry_device WHERE name = ?)", (json.dumps({**chain[1], "purpose": "đã sửa"}),
                                                                   d.name))
        c.commit()
        c.close()
    out = hub.cli("audit", "--name", d.name, "--json")
    broken = json.loads(out.stdout)
    assert out.returncode == 1 and broken["ok"] is False and broken["first_broken"] == 2
    assert hub.cli("audit", "--name", "no-such-kiosk", "--json").returncode == 2
