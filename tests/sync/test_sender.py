"""The sender: circuit breaker and recovery, check-in never waits for the network, payloads minimised once acked."""

import json
import socket
import threading
import time

from kiosk import store
from kiosk.domain import ScanEvent
from sync.client import HubClient
from sync.hub import Faults, Hub
from sync.sender import Sender, Settings, status

CCCD = "0401950{:05d}||Người Thử {}|12051995|Nữ|Xã Thử|03062021"
NAMES = ["An", "Bình", "Chi", "Dung", "Giang", "Hà", "Khánh", "Lan"]


def checkin(service, i):
    v = service.handle(ScanEvent(CCCD.format(i, NAMES[i % len(NAMES)]).encode(), "serial"))
    assert v.ok, v
    return v


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_breaker_opens_while_down_and_drains_when_back(service, tmp_path):
    for i in range(5):
        checkin(service, i)
    port = free_port()
    hub = Hub(tmp_path / "hub.db", port=port)
    hub.httpd.server_close()  # reserve the port's number, but nobody answers yet
    token = hub.store.enrol("k")
    db = store.connect(service.db_path)
    sender = Sender(db, HubClient(f"http://127.0.0.1:{port}", token),
                    settings=Settings(batch_size=2, backoff_base=0.01, backoff_max=0.02, breaker_threshold=3,
                                      breaker_cooldown=0.3))
    stop = threading.Event()
    t = threading.Thread(target=sender.run, args=(stop,), daemon=True)
    t.start()
    assert _until(lambda: sender.open_until > 0, 10), "the circuit should open after repeated failures"
    st = status(db, service.clock.now())
    assert st["queued"] == 5 and st["in_flight"] == 0 and "cannot reach the hub" in st["last_error"]
    hub = Hub(tmp_path / "hub.db", port=port).start()
    try:
        assert _until(lambda: sender.remaining() == 0, 15)
        assert hub.store.stats()["visits"] == 5
        assert status(db, service.clock.now())["last_success"] is not None
    finally:
        stop.set()
        t.join(5)
        hub.stop()


def test_checkin_does_not_wait_for_a_slow_hub(service, tmp_path):
    checkin(service, 100)
    hub = Hub(tmp_path / "hub.db", faults=Faults(delay=2.0)).start()
    try:
        token = hub.store.enrol("k")
        db = store.connect(service.db_path)
        sender = Sender(db, HubClient(hub.url, token))
        t = threading.Thread(target=sender.once, daemon=True)
        t.start()
        time.sleep(0.3)  # the sender is now waiting on the hub, rows claimed as 'sent'
        assert db.execute("SELECT count(*) FROM outbox WHERE state = 'sent'").fetchone()[0] == 1
        t0 = time.monotonic()
        checkin(service, 101)
        took = time.monotonic() - t0
        assert took < 1.5, f"check-in waited {took:.2f} s for the network"
        t.join(15)
        assert sender.remaining() == 0 and hub.store.stats()["visits"] == 2  # the new one went on the next round
    finally:
        hub.stop()


def test_acknowledged_rows_keep_no_personal_data(service, hub):
    checkin(service, 200)
    db = store.connect(service.db_path)
    Sender(db, HubClient(hub.url, hub.token)).once()
    state, payload, ref = db.execute("SELECT state, payload, hub_reference FROM outbox").fetchone()
    assert state == "acknowledged" and json.loads(payload) == {} and ref.startswith("V")


def _until(pred, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()


def test_in_flight_409_defers_then_replays(service, tmp_path):
    # A killed sender's request may still be in the hub's hands when the next sender resends the same key.
    checkin(service, 300)
    hub = Hub(tmp_path / "hub.db", faults=Faults(delay=1.0)).start()
    try:
        token = hub.store.enrol("k")
        db = store.connect(service.db_path)
        kind, key, payload = db.execute("SELECT kind, idempotency_key, payload FROM outbox").fetchone()
        from kiosk.datakey import unseal_tree
        body = unseal_tree(None, json.loads(payload))
        first = threading.Thread(target=lambda: HubClient(hub.url, token).send_one(kind, key, body), daemon=True)
        first.start()
        time.sleep(0.3)
        sender = Sender(db, HubClient(hub.url, token), settings=Settings(in_flight_retry=0.5))
        r = sender.once()
        assert r.deferred == 1 and r.acknowledged == 0 and sender.remaining() == 1
        assert db.execute("SELECT next_attempt_at IS NOT NULL, last_error FROM outbox").fetchone() == (1, "hub answered 409")
        first.join(5)
        assert _until(lambda: sender.once().acknowledged == 1, 10)
        st = hub.store.stats()
        assert sender.remaining() == 0 and (st["visits"], st["replays_answered"]) == (1, 1)
    finally:
        hub.stop()
