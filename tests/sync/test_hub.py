"""The kiosk's client against the real hub (`kiosk-hub serve`) over HTTP: auth, idempotency (replay, 422,
409), batches, answers lost after the hub committed (through tests/faultproxy.py), revocation."""

import json
import subprocess
import threading
import time
import uuid
from urllib.parse import urlsplit

import pytest
import requests

from sync.client import HubAuthError, HubClient, HubUnavailable
from tests.conftest import kiosk_cmd
from tests.faultproxy import FaultProxy
from tests.hub.test_inflight import WriteBlocker, key_held


def visit_body(i=1, **kw):
    b = {"visit_id": i, "facility_code": "40123", "visit_date": "2026-11-26", "queue_number": i,
         "created_at": "2026-11-26T02:30:00Z", "source": "serial", "clock_synced": True,
         "patient": {"id_number": "040195001234", "full_name": "Trần Thị Lan Anh"}}
    b.update(kw)
    return b


def stats(h):
    return h.stats()


def proxy_to(h, **faults) -> FaultProxy:
    u = urlsplit(h.url)
    return FaultProxy(u.hostname, u.port, **faults).start()


def test_auth_required(hub):
    r = requests.post(hub.url + "/v1/visits", json=visit_body(), headers={"Idempotency-Key": "a"}, timeout=5)
    assert r.status_code == 401
    with pytest.raises(HubAuthError, match="refused this device's token"):
        HubClient(hub.url, "wrong-token").send_one("visit", "k", visit_body())
    assert requests.get(hub.url + "/v1/health", timeout=5).json()["status"] == "ok"


def test_missing_idempotency_key_is_400(hub):
    r = requests.post(hub.url + "/v1/visits", json=visit_body(), timeout=5,
                      headers={"Authorization": f"Bearer {hub.token}"})
    assert r.status_code == 400 and r.json()["error"] == "idempotency_key_required"


def test_replay_returns_original_answer_and_counts(hub):
    c = HubClient(hub.url, hub.token)
    key = str(uuid.uuid4())
    first = c.send_one("visit", key, visit_body())
    again = c.send_one("visit", key, visit_body())
    assert first.status == 201 and not first.replayed
    assert (again.status, again.body, again.replayed) == (201, first.body, True)
    other = c.send_one("visit", str(uuid.uuid4()), visit_body(2))
    assert other.body["id"] != first.body["id"]
    assert stats(hub) == {"visits": 2, "stay_notifications": 0, "replays_answered": 1}


def test_same_key_different_body_is_422(hub):
    c = HubClient(hub.url, hub.token)
    c.send_one("visit", "k-1", visit_body())
    a = c.send_one("visit", "k-1", visit_body(queue_number=9))
    assert a.status == 422 and a.permanent_rejection and a.body["error"] == "idempotency_key_reused"
    assert stats(hub)["visits"] == 1


def test_key_in_flight_is_409(hub):
    # The first request claims its key, then waits for the hub's store (held by the test): it is in flight.
    c1, c2 = HubClient(hub.url, hub.token), HubClient(hub.url, hub.token)
    answers = {}
    blocker = WriteBlocker(hub.env, hub.device_id())
    t = threading.Thread(target=lambda: answers.setdefault("first", c1.send_one("visit", "k", visit_body())))
    try:
        t.start()
        end = time.monotonic() + 20
        while not key_held(hub.env, hub.device_id(), "k") and time.monotonic() < end:
            time.sleep(0.05)
        second = c2.send_one("visit", "k", visit_body())
    finally:
        blocker.release()
    t.join(30)
    assert second.status == 409 and not second.permanent_rejection
    assert answers["first"].status == 201
    assert c2.send_one("visit", "k", visit_body()).replayed  # once done, a replay


def test_keys_are_per_device(hub, tmp_path):
    _, other = hub.enrol()
    a = HubClient(hub.url, hub.token).send_one("visit", "same", visit_body())
    b = HubClient(hub.url, other).send_one("visit", "same", visit_body())
    assert a.status == b.status == 201 and not b.replayed and a.body["id"] != b.body["id"]


def test_batch_each_item_keeps_its_key_and_answer(hub):
    c = HubClient(hub.url, hub.token)
    c.send_one("visit", "old", visit_body(1))
    bad_stay = {"notification_id": 1, "facility_code": "40123", "full_name": "X", "reason": "r",
                "address_of_stay": "A", "stay_from": "2026-11-26T02:00:00Z", "deadline_at": "2026-11-26T16:00:00Z",
                "created_at": "2026-11-26T02:00:00Z", "id_number": "040195001234", "sex": "female"}
    answers = c.send_batch([("visit", "old", visit_body(1)), ("visit", "new", visit_body(2)),
                            ("stay_notification", "bad", bad_stay)])
    assert [(a.idempotency_key, a.status, a.replayed) for a in answers] == \
        [("old", 201, True), ("new", 201, False), ("bad", 400, False)]
    assert "statutory" in answers[2].body["detail"]
    assert stats(hub) == {"visits": 2, "stay_notifications": 0, "replays_answered": 1}


def test_drop_after_commit_then_replay(hub):
    # The network loses the hub's answer after the hub committed (the proxy reads it, then closes).
    proxy = proxy_to(hub, drop_rate=1.0)
    try:
        c = HubClient(proxy.url, hub.token)
        with pytest.raises(HubUnavailable) as e:
            c.send_one("visit", "k", visit_body())
        assert e.value.delivered is None  # may have been received: the row stays 'sent'
        assert proxy.counters.dropped == 1 and stats(hub)["visits"] == 1
        proxy.set(drop_rate=0.0)
        again = c.send_one("visit", "k", visit_body())
        assert again.replayed and again.status == 201
        assert stats(hub)["visits"] == 1 and stats(hub)["replays_answered"] == 1
    finally:
        proxy.stop()


def test_hub_down_is_exit_3(tmp_path, kiosk_env):
    tok = tmp_path / "tok"
    tok.write_text("x")
    subprocess.run(kiosk_cmd("checkin", "--payload", "040195001234||A B|12051995|Nữ|X|03062021"), env=kiosk_env,
                   check=True, capture_output=True)
    r = subprocess.run(kiosk_cmd("sync", "once", "--hub", "http://127.0.0.1:9", "--token-file", str(tok),
                                 "--backoff-max", "0.01"), capture_output=True, text=True, env=kiosk_env)
    assert r.returncode == 3 and "1 remaining" in r.stdout
    st = json.loads(subprocess.run(kiosk_cmd("sync", "status", "--json"), capture_output=True, text=True,
                                   env=kiosk_env).stdout)
    assert st["queued"] == 1 and st["in_flight"] == 0 and "cannot reach the hub" in st["last_error"]
    assert st["last_success"] is None and st["oldest_age_seconds"] >= 0


def test_revoked_device_gets_403_and_keepalive_survives(hub):
    hub.revoke("stolen")
    s = requests.Session()
    h = {"Authorization": f"Bearer {hub.token}", "Idempotency-Key": "k"}
    for _ in range(3):  # same connection: the body must be read once, not twice
        r = s.post(hub.url + "/v1/visits", json=visit_body(), headers=h, timeout=5)
        assert r.status_code == 403 and r.json()["error"] == "device_revoked"


def test_sync_logs_carry_no_personal_data(hub, kiosk_env):
    payload = "040195001234|186543210|Trần Thị Lan Anh|12051995|Nữ|Xóm 3, Xã Nghi Phong|03062021"
    subprocess.run(kiosk_cmd("checkin", "--payload", payload), env=kiosk_env, check=True, capture_output=True)
    r = subprocess.run(kiosk_cmd("--log-level", "DEBUG", "stay", "start", "1", "--reason", "theo dõi"),
                       env=kiosk_env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    r2 = subprocess.run(kiosk_cmd("--log-level", "DEBUG", "sync", "once", "--hub", hub.url, "--token-file",
                                  str(hub.token_file)), env=kiosk_env, capture_output=True, text=True)
    assert r2.returncode == 0 and "2 acknowledged" in r2.stdout, r2.stdout + r2.stderr
    logs = r.stderr + r2.stderr
    assert "event=stay_started" in logs and "event=sync_batch" in logs
    for secret in ("040195001234", "186543210", "Trần", "Lan Anh", "Nghi Phong", "theo dõi"):
        assert secret not in logs
