"""The heartbeat and the visit's `document` against contract 1.1.0: the schema, and the new hub (hub/, Django,
gunicorn on SQLite) on loopback, which refuses any field outside the heartbeat."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from kiosk.services import device_status
from kiosk.privacy.datakey import unseal_tree
from sync import heartbeat as hb
from sync.client import HubClient
from sync.sender import Sender
from tests.hub.conftest import new_hub_env, sqlite_template, start_hub  # noqa: F401  (fixture used by new_hub_env)
from tests.sync.test_heartbeat import EXPECTED_DOCUMENT, check_in_every_kind, start_stay

SPEC = json.loads((Path(__file__).resolve().parents[2] / "sync" / "openapi" / "v1.json").read_text())


def check(name, instance):
    jsonschema.Draft202012Validator({"$ref": f"#/components/schemas/{name}",
                                     "components": SPEC["components"]}).validate(instance)


def test_heartbeat_and_visits_match_the_contract(app, service, clock, data_dir):
    ids = check_in_every_kind(service)
    start_stay(service, ids["chip"], clock)
    db = app.database()
    device_status.record(db, "printer", "fault", clock.now())
    check("Heartbeat", hb.build(db, now=clock.now(), data_dir=data_dir, clock=clock))
    for (payload,) in db.execute("SELECT payload FROM outbox WHERE kind = 'visit'"):
        body = unseal_tree(service.data_key, json.loads(payload))
        check("Visit", body)
        assert body["document"] in EXPECTED_DOCUMENT.values()


def test_new_hub_takes_the_heartbeat_and_counts_documents(app, service, clock, data_dir, tmp_path, request):
    env = new_hub_env("sqlite", tmp_path / "hub", request)
    _, token = env.enrol("kiosk-hb", facility="40123")
    live = start_hub(env, workers=1)
    try:
        ids = check_in_every_kind(service)
        db = app.database()
        device_status.record(db, "camera", "ok", clock.now())
        client = HubClient(live.url, token)
        assert Sender(db, client, clock=clock).once().error is None
        start_stay(service, ids["cccd_qr"], clock, hours_ago=30)  # raised after the sync: still open
        beat = hb.Heartbeat(db, client, data_dir=data_dir, clock=clock)
        assert beat.beat(), beat.last_error
        # What the hub's fleet page reads: the latest state, as the kiosk counted it.
        (devices, visits, backlog, open_stays, outbox), = env.query(
            "SELECT s.devices, s.visits_today, s.backlog, s.open_stays, s.outbox FROM registry_devicestatus s "
            "JOIN registry_device d ON d.id = s.device_id WHERE d.name = %s", ("kiosk-hb",))
        loads = (lambda v: json.loads(v) if isinstance(v, str) else v)
        assert loads(visits) == {"chip": 1, "cccd_qr": 2, "bhyt_qr": 1, "mrz": 1, "manual": 2}
        assert loads(devices) == {"scanner": "absent", "chip": "absent", "camera": "ok", "printer": "absent"}
        acked = db.execute("SELECT count(*) FROM outbox WHERE state = 'acknowledged'").fetchone()[0]
        assert backlog == 1 and open_stays == 1 and loads(outbox)["acknowledged"] == acked >= len(ids)
        # And the visits themselves arrived with their document, which the reader-use page counts.
        rows = env.query("SELECT record_id, document FROM ingest_visit")
        assert {r: d for r, d in rows} == {ids[k]: EXPECTED_DOCUMENT[k] for k in ids}
    finally:
        live.stop()
