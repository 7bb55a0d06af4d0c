"""The sender: circuit breaker and recovery, check-in never waits for the network, payloads minimised once acked."""

import json
import random
import threading
import time

import pytest

from kiosk.domain import ScanEvent
from sync.client import HubClient
from sync.sender import Sender, Settings, status
from tests.hub.test_inflight import WriteBlocker, key_held
from tests.hubproc import free_port, path_on, serve

CCCD = "0401950{:05d}||Người Thử {}|12051995|Nữ|Xã Thử|03062021"
NAMES = ["An", "Bình", "Chi", "Dung", "Giang", "Hà", "Khánh", "Lan"]


def checkin(service, i):
    v = service.handle(ScanEvent(CCCD.format(i, NAMES[i % len(NAMES)]).encode(), "serial"))
    assert v.ok, v
    return v


def test_breaker_opens_while_down_and_drains_when_back(app, service, hub):
    for i in range(5):
        checkin(service, i)
    port = free_port()  # nobody answers there yet
    db = app.database()
    sender = Sender(db, HubClient(f"http://127.0.0.1:{port}", hub.token),
                    settings=Settings(batch_size=2, backoff_base=0.01, backoff_max=0.02, breaker_threshold=3,
                                      breaker_cooldown=0.3))
    stop = threading.Event()
    t = threading.Thread(target=sender.run, args=(stop,), daemon=True)
    t.start()
    assert _until(lambda: sender.open_until > 0, 10), "the circuit should open after repeated failures"
    st = status(db, service.clock.now())
    assert st["queued"] == 5 and st["in_flight"] == 0 and "cannot reach the hub" in st["last_error"]
    path = path_on(port, hub)  # the hub is reachable again
    try:
        assert _until(lambda: sender.remaining() == 0, 15)
        assert hub.stats()["visits"] == 5
        assert status(db, service.clock.now())["last_success"] is not None
    finally:
        stop.set()
        t.join(5)
        path.stop()


def test_checkin_does_not_wait_for_a_slow_hub(app, service, hub):
    checkin(service, 100)
    slow = path_on(free_port(), hub, delay=2.0)  # every request held 2 s on the way
    try:
        db = app.database()
        sender = Sender(db, HubClient(slow.url, hub.token))
        t = threading.Thread(target=sender.once, daemon=True)
        t.start()
        time.sleep(0.3)  # the sender is now waiting on the hub, rows claimed as 'sent'
        assert db.execute("SELECT count(*) FROM outbox WHERE state = 'sent'").fetchone()[0] == 1
        t0 = time.monotonic()
        checkin(service, 101)
        took = time.monotonic() - t0
        assert took < 1.5, f"check-in waited {took:.2f} s for the network"
        t.join(15)
        assert sender.remaining() == 0 and hub.stats()["visits"] == 2  # the new one went on the next round
    finally:
        slow.stop()


def test_acknowledged_rows_keep_no_personal_data(app, service, hub):
    checkin(service, 200)
    db = app.database()
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


def test_in_flight_409_defers_then_replays(app, service, hub):
    # A killed sender's request may still be in the hub's hands when the next sender resends the same key:
    # here the first request has claimed its key and waits for the hub's store, which the test holds.
    checkin(service, 300)
    db = app.database()
    kind, key, payload = db.execute("SELECT kind, idempotency_key, payload FROM outbox").fetchone()
    from kiosk.privacy.datakey import unseal_tree
    body = unseal_tree(service.data_key, json.loads(payload))
    blocker = WriteBlocker(hub.env, hub.device_id())
    first = threading.Thread(target=lambda: HubClient(hub.url, hub.token).send_one(kind, key, body), daemon=True)
    try:
        first.start()
        assert _until(lambda: key_held(hub.env, hub.device_id(), key), 20), "the first request never claimed its key"
        sender = Sender(db, HubClient(hub.url, hub.token), settings=Settings(in_flight_retry=0.5))
        r = sender.once()
    finally:
        blocker.release()
    assert r.deferred == 1 and r.acknowledged == 0 and sender.remaining() == 1
    assert db.execute("SELECT next_attempt_at IS NOT NULL, last_error FROM outbox").fetchone() == (1, "hub answered 409")
    first.join(30)
    assert _until(lambda: sender.once().acknowledged == 1, 10)
    st = hub.stats()
    assert sender.remaining() == 0 and (st["visits"], st["replays_answered"]) == (1, 1)


class _LoggingClient(HubClient):
    """The real HTTP client, noting when (in the sender's time) each request left and whether the hub answered."""

    def __init__(self, url, token, now):
        super().__init__(url, token)
        self.now, self.log = now, []

    def request(self, method, path, **kw):
        t = self.now()
        try:
            r = super().request(method, path, **kw)
        except Exception:
            self.log.append((t, path, False))
            raise
        self.log.append((t, path, r.status_code < 500))
        return r


@pytest.mark.parametrize("seed,outage", [(1, 3.0), (2, 17.5), (3, 42.0), (4, 90.0), (5, 123.4), (6, 300.0)])
def test_shipped_settings_recover_within_10_s_and_probe_gently_while_down(app, service, hub, seed, outage):
    """Hub down for `outage` seconds, then up: with the shipped Settings() the first answered request comes
    ≤ 10 s after the hub's return, and while it is down the kiosk sends at most one small probe per ~4 s.

    Time is virtual (the sender's injected monotonic clock advances only while it waits), so the bound is
    exact whatever the machine's load; the hub is a real one on loopback, reachable at the kiosk's address
    (a path opened to it there) when virtual time passes `outage`."""
    for i in range(3):
        checkin(service, 400 + i)
    port = free_port()
    vt = [0.0]
    up = []
    stop = threading.Event()
    client = _LoggingClient(f"http://127.0.0.1:{port}", hub.token, lambda: vt[0])
    sender = Sender(app.database(), client, settings=Settings(), rng=random.Random(seed),
                    monotonic=lambda: vt[0])

    def wait(seconds):
        assert seconds >= 0
        vt[0] += seconds
        if vt[0] >= outage and not up:
            up.append(path_on(port, hub))
        if sender.remaining() == 0 or vt[0] > outage + 60:
            stop.set()
        return stop.is_set()

    try:
        sender.run(stop, wait=wait)
    finally:
        if up:
            up[0].stop()
    answered = [t for t, _, ok in client.log if ok]
    assert answered, client.log[-5:]
    assert answered[0] >= outage  # nothing answered before the hub was there
    assert answered[0] - outage <= 10.0, f"first answer {answered[0] - outage:.1f} s after the hub came back"
    assert sender.remaining() == 0
    down = [(t, path) for t, path, ok in client.log if not ok]
    # Gentle while down: after the first few backoffs, only health probes (no record payloads), ≥ 4 s apart.
    probes = [t for t, path in down if path == "/v1/health"]
    batches_down = [t for t, path in down if path != "/v1/health"]
    assert len(batches_down) <= Settings().breaker_threshold + 1
    assert all(b - a >= 0.8 * Settings().breaker_cooldown - 1e-9 for a, b in zip(probes, probes[1:]))
    if outage >= 60:
        assert len(down) <= outage / 4 + Settings().breaker_threshold + 1
        assert len(probes) >= outage / 6 - 3  # it does keep probing


def test_shipped_settings_real_time_first_answer_within_10_s_of_return(app, service, tmp_path):
    """The same at wall-clock time, once, with generous bounds: the circuit opens on a dead hub (shipped
    settings), the hub comes back, and the outbox drains ≤ 10 s later (the design bound is ~6 s). The hub is
    started for real (gunicorn on the kiosk's port) once the circuit is open; "back" counts from when it
    answers."""
    for i in range(3):
        checkin(service, 500 + i)
    port = free_port()
    from tests.hubproc import device_on, new_env
    env = new_env(tmp_path / "hub")
    dev = device_on(env, None, tmp_path / "hub")
    client = _LoggingClient(f"http://127.0.0.1:{port}", dev.token, time.monotonic)
    sender = Sender(app.database(), client)
    assert (sender.settings.backoff_max, sender.settings.breaker_cooldown) == (5.0, 5.0)
    stop = threading.Event()
    t = threading.Thread(target=sender.run, args=(stop,), daemon=True)
    t.start()
    hub = None
    try:
        assert _until(lambda: sender.open_until > 0, 40), "the circuit should open on a dead hub"
        hub = serve(env, port=port)
        t_up = time.monotonic()
        assert _until(lambda: sender.remaining() == 0, 30)
        first = min(tm for tm, _, ok in client.log if ok)
        assert first - t_up <= 10.0, f"first answer {first - t_up:.1f} s after the hub came back"
    finally:
        stop.set()
        t.join(10)
        if hub:
            hub.stop()
