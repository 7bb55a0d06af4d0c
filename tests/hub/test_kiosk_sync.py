"""The kiosk's real, unmodified sender (`sync.sender`, `kiosk sync run|once`) against the Django hub, on both
engines: the outbox drains exactly once, through SIGKILLs of the sender, with stay notifications, a
refused record filed as needs-manual, and a revoked token stopping sync without losing a record."""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import time
from datetime import timedelta

import pytest

from kiosk.services import stay_notification as sn
from kiosk import store
from kiosk.services.checkin import CheckinService
from kiosk.domain import ScanEvent
from kiosk.eligibility.roster import DEMO_KEY
from sync.client import DeviceRevoked, HubClient
from sync.sender import Sender, Settings
from tests.conftest import kiosk_cmd

VISITS, STAYS, KILLS = 120, 40, 12


def letters(i: int) -> str:
    return "".join("abcdeghikl"[int(d)] for d in str(i)).capitalize()


def make_records(db_path, clock, n=VISITS, stays=STAYS, facility="40123", first=0):
    service = CheckinService(store.connect(db_path, clock=clock), facility_code=facility, roster_key=DEMO_KEY,
                             rescan_window=timedelta(0))
    ids = []
    for i in range(first, first + n):
        clock.advance(seconds=20)
        v = service.handle(ScanEvent(f"0401950{i:05d}||Người Thử {letters(i)}|12051995|Nữ|Xã Thử|03062021".encode(),
                                     "serial"))
        assert v.ok, v
        ids.append(v.visit_id)
    for vid in ids[:stays]:
        sn.start(service.db, vid, "theo dõi qua đêm", clock=clock, facility_code=facility,
                 address_of_stay="Trạm Y tế xã Thử")
    service.db.conn.close()


def hub_rows(hub, table: str) -> list[tuple[str, int]]:
    return hub.query(f"SELECT idempotency_key, record_id FROM {table}")


# On SQLite here; on PostgreSQL the same guarantee is test_exactly_once's (the sender SIGKILLed 50 times
# through the fault proxy, hub workers killed, a PostgreSQL restart), so it is not run twice.
@pytest.mark.parametrize("hub_db", ["sqlite"], indirect=True)
def test_sigkilled_sender_delivers_exactly_once(live_hub, tmp_path, kiosk_env, clock, data_dir):
    hub = live_hub.hub
    name, token = hub.enrol()
    token_file = tmp_path / "token"
    token_file.write_text(token)
    make_records(data_dir / "kiosk.db", clock)
    rng = random.Random(20261126)
    cmd = kiosk_cmd("sync", "run", "--hub", live_hub.url, "--token-file", str(token_file), "--batch", "3")
    db = sqlite3.connect(data_dir / "kiosk.db")
    remaining = lambda: db.execute("SELECT count(*) FROM outbox WHERE state IN ('queued', 'sent')").fetchone()[0]
    kills = 0
    while kills < KILLS and remaining():
        p = subprocess.Popen(cmd, env=kiosk_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        p.stdout.readline()
        time.sleep(rng.uniform(0.0, 0.3))
        p.send_signal(signal.SIGKILL)
        p.wait()
        kills += 1
    mid = dict(db.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall())
    db.close()
    for _ in range(30):
        r = subprocess.run(kiosk_cmd("sync", "once", "--hub", live_hub.url, "--token-file", str(token_file), "--json"),
                           env=kiosk_env, capture_output=True, text=True)
        if r.returncode == 0:
            break
        assert r.returncode == 3, r.stderr
    assert r.returncode == 0, (r.stdout, r.stderr)
    assert kills >= 3 and mid.get("acknowledged", 0) > 0, (kills, mid)

    k = store.connect(data_dir / "kiosk.db")
    states = dict(k.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall())
    keys = {r[0]: (r[1], r[2]) for r in k.execute("SELECT idempotency_key, kind, record_id FROM outbox")}
    assert k.execute("SELECT count(*) FROM stay_notifications WHERE state = 'acknowledged'").fetchone()[0] == STAYS
    k.conn.close()
    audit_kinds = {key for key, (kind, _) in keys.items() if kind == "audit"}
    assert states == {"acknowledged": len(keys)}
    got_v, got_s = hub_rows(hub, "ingest_visit"), hub_rows(hub, "ingest_staynotification")
    assert len(got_v) == VISITS and len({rid for _, rid in got_v}) == VISITS
    assert len(got_s) == STAYS and len({rid for _, rid in got_s}) == STAYS
    sent = {key: ("visit", rid) for key, rid in got_v} | {key: ("stay_notification", rid) for key, rid in got_s}
    assert sent == {key: v for key, v in keys.items() if key not in audit_kinds}
    [(payload,)] = hub.query("SELECT payload FROM ingest_staynotification LIMIT 1")
    body = json.loads(payload) if isinstance(payload, str) else payload
    assert body["reason"] == "theo dõi qua đêm" and body["address_of_stay"] == "Trạm Y tế xã Thử"
    days = hub.query("SELECT sum(visits) FROM ingest_dailyuse WHERE facility_id = '40123'")
    assert days == [(VISITS,)]
    print(f"kills={kills} mid-run={mid}")


def test_in_process_sender_refused_records_and_revocation(live_hub, service, data_dir, clock):
    hub = live_hub.hub
    name, token = hub.enrol()
    make_records(data_dir / "kiosk.db", clock, n=5, stays=1, first=500)
    # A record for another facility (a kiosk configured with the wrong code) is refused per record.
    make_records(data_dir / "kiosk.db", clock, n=2, stays=0, facility="40231", first=600)
    db = store.connect(data_dir / "kiosk.db")
    sender = Sender(db, HubClient(live_hub.url, token), settings=Settings(batch_size=4))
    res = sender.once()
    assert res.error is None and sender.remaining() == 0
    states = dict(db.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall())
    assert states["needs_manual"] == 2
    reasons = [r for (r,) in db.execute("SELECT last_error FROM outbox WHERE state = 'needs_manual'")]
    assert all("422" in r and "facility" in r for r in reasons), reasons
    assert json.loads(db.execute("SELECT payload FROM outbox WHERE state = 'acknowledged' LIMIT 1").fetchone()[0]) == {}
    assert hub.query("SELECT count(*) FROM ingest_visit") == [(5,)]
    # Revoked: the next sync stops with the hub's reason and keeps every record queued.
    hub.cli_json("revoke", "--name", name, "--reason", "thiết bị bị mất")
    make_records(data_dir / "kiosk.db", clock, n=2, stays=0, first=700)
    with pytest.raises(DeviceRevoked, match="thiết bị bị mất"):
        sender.once()
    assert sender.remaining() == 2
    assert dict(db.execute("SELECT state, count(*) FROM outbox WHERE state IN ('queued','sent') GROUP BY state")
                .fetchall()) == {"queued": 2}
    assert hub.query("SELECT count(*) FROM ingest_visit") == [(5,)]
