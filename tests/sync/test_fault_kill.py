"""Acceptance: a flaky hub (30% failures, drop-after-commit) and a sender SIGKILLed ≥ 50 times at random
moments; at the end the hub holds every visit and stay notification exactly once and the outbox is empty."""

import json
import random
import signal
import sqlite3
import subprocess
import time
from datetime import timedelta

from kiosk import stay_notification as sn
from kiosk import store
from kiosk.checkin import CheckinService
from kiosk.clock import FixedClock
from kiosk.domain import ScanEvent
from kiosk.roster import DEMO_KEY
from tests.conftest import kiosk_cmd
from tests.sync.conftest import start_hub

VISITS, STAYS, KILLS = 500, 200, 50


def letters(i: int) -> str:
    return "".join("abcdeghikl"[int(d)] for d in str(i)).capitalize()


def make_offline_records(db_path, clock):
    service = CheckinService(db_path, facility_code="40123", roster_key=DEMO_KEY, rescan_window=timedelta(0),
                             clock=clock)
    ids = []
    for i in range(VISITS):
        clock.advance(seconds=20)
        v = service.handle(ScanEvent(f"0401950{i:05d}||Người Thử {letters(i)}|12051995|Nữ|Xã Thử|03062021".encode(), "serial"))
        assert v.ok, v
        ids.append(v.visit_id)
    for vid in ids[:STAYS]:
        sn.start(service.db, vid, "theo dõi qua đêm", clock=clock, facility_code="40123",
                 address_of_stay="Trạm Y tế xã Thử")
    service.db.conn.close()


def test_sigkilled_sender_against_flaky_hub_delivers_exactly_once(tmp_path, kiosk_env, clock):
    data = tmp_path / "data"
    make_offline_records(data / "kiosk.db", clock)
    h = start_hub(tmp_path / "hub", "--fail-rate", "0.3", "--drop-after-commit", "0.3", "--seed", "7")
    rng = random.Random(20261126)
    cmd = kiosk_cmd("sync", "run", "--hub", h.url, "--token-file", str(h.token_file), "--batch", "2",
                    "--backoff-max", "0.05", "--breaker-cooldown", "0.2")
    try:
        kills = busy_kills = 0
        db = sqlite3.connect(data / "kiosk.db")
        remaining = lambda: db.execute("SELECT count(*) FROM outbox WHERE state IN ('queued', 'sent')").fetchone()[0]
        while kills < KILLS:
            p = subprocess.Popen(cmd, env=kiosk_env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            first = p.stdout.readline()
            assert first.startswith(b"sync: sending"), (kills, first, p.stderr.read())  # the kill lands mid-work
            time.sleep(rng.uniform(0.0, 0.4))
            p.send_signal(signal.SIGKILL)
            p.wait()
            assert p.returncode == -signal.SIGKILL  # it was still running: a real kill, not a finished process
            kills += 1
            busy_kills += remaining() > 0  # killed while it still had work, not idling on an empty outbox
        mid = dict(db.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall())
        db.close()
        # Finish: `sync once` until it reports an empty outbox (exit 0).
        for _ in range(60):
            r = subprocess.run(kiosk_cmd("sync", "once", "--hub", h.url, "--token-file", str(h.token_file),
                                         "--backoff-max", "0.05", "--json"), env=kiosk_env, capture_output=True,
                               text=True)
            if r.returncode == 0:
                break
            assert r.returncode == 3, r.stderr
        assert r.returncode == 0, r.stdout
    finally:
        h.stop()

    assert mid.get("acknowledged", 0) > 0, "the killed senders should have made progress"
    assert busy_kills >= KILLS, f"only {busy_kills} kills landed while records remained"
    k = store.connect(data / "kiosk.db")
    states = dict(k.execute("SELECT state, count(*) FROM outbox GROUP BY state").fetchall())
    assert states == {"acknowledged": VISITS + STAYS}  # nothing queued, in flight or rejected
    assert k.execute("SELECT count(*) FROM stay_notifications WHERE state = 'acknowledged'").fetchone()[0] == STAYS
    keys = {r[0]: (r[1], r[2]) for r in k.execute("SELECT idempotency_key, kind, record_id FROM outbox")}
    k.conn.close()

    hubdb = sqlite3.connect(h.db)
    got_v = hubdb.execute("SELECT idempotency_key, record_id FROM visits").fetchall()
    got_s = hubdb.execute("SELECT idempotency_key, record_id FROM stay_notifications").fetchall()
    replays = hubdb.execute("SELECT value FROM counters WHERE name = 'replays_answered'").fetchone()
    assert len(got_v) == VISITS and len({r for _, r in got_v}) == VISITS
    assert len(got_s) == STAYS and len({r for _, r in got_s}) == STAYS
    assert {key: ("visit", rid) for key, rid in got_v} | {key: ("stay_notification", rid) for key, rid in got_s} \
        == keys
    body = json.loads(hubdb.execute("SELECT payload FROM stay_notifications LIMIT 1").fetchone()[0])
    assert body["reason"] == "theo dõi qua đêm" and body["address_of_stay"] == "Trạm Y tế xã Thử"
    assert replays and replays[0] > 0  # drops after commit really happened and were answered by replay
    print(f"kills={kills} busy_kills={busy_kills} mid-run={mid} replays={replays[0]}")
