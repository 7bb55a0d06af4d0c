"""`kiosk-hub serve`: stalled connections cost no thread and are closed; TLS (with client certificates)."""

from __future__ import annotations

import socket
import time
import uuid
from urllib.parse import urlsplit

import pytest
import requests
from cryptography.hazmat.primitives import serialization

from sync.client import HubClient, HubUnavailable
from tests.hub.conftest import new_hub_env, start_hub
from tests.hub.test_api import Device, visit


@pytest.fixture
def sqlite_hub(request, tmp_path):
    return new_hub_env("sqlite", tmp_path / "hub", request)


def test_stalled_unauthenticated_connections_do_not_stop_a_real_request(sqlite_hub):
    live = start_hub(sqlite_hub, "--threads", "4")  # 2 workers x 4 threads: 8 threads for 400 stalled clients
    try:
        d = Device(live)
        u = urlsplit(live.url)
        stalled = []
        for i in range(300):        # connect and say nothing
            stalled.append(socket.create_connection((u.hostname, u.port), timeout=10))
        for i in range(60):         # half a header block, then silence
            s = socket.create_connection((u.hostname, u.port), timeout=10)
            s.sendall(b"POST /v1/visits HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n")
            stalled.append(s)
        for i in range(40):         # a whole header block, no token, and a body that never comes
            s = socket.create_connection((u.hostname, u.port), timeout=10)
            s.sendall(b"POST /v1/visits HTTP/1.1\r\nHost: x\r\nIdempotency-Key: k\r\nContent-Length: 5000\r\n\r\n{")
            stalled.append(s)
        time.sleep(1.0)
        t0 = time.monotonic()
        r = d.post("/v1/visits", visit(1))
        took = time.monotonic() - t0
        assert r.status_code == 201
        assert took < 3.0, f"a real request waited {took:.1f} s behind stalled connections"
        # The hub does not keep them: each is answered or closed within the header timeout (10 s).
        deadline = time.monotonic() + 30
        open_ones = list(stalled)
        while open_ones and time.monotonic() < deadline:
            still = []
            for s in open_ones:
                s.settimeout(0.05)
                try:
                    data = s.recv(4096)
                    if data and not data.startswith(b"HTTP/1.1 401"):
                        still.append(s)  # anything but an answer to the no-token request keeps it listed
                except socket.timeout:
                    still.append(s)
                except OSError:
                    pass
            open_ones = still
            time.sleep(0.5)
        kinds = sorted({("idle" if stalled.index(s) < 300 else "half-header" if stalled.index(s) < 360 else "no-body") for s in open_ones})
        assert not open_ones, f"{len(open_ones)} stalled connections ({kinds}) were still open after 30 s"
        assert d.post("/v1/visits", visit(2)).status_code == 201
    finally:
        for s in stalled:
            s.close()
        live.stop()


def _write_pem(path, obj, key=False):
    if key:
        path.write_bytes(obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    else:
        path.write_bytes(obj.public_bytes(serialization.Encoding.PEM))
    return str(path)


def test_tls_with_and_without_client_certificates(sqlite_hub, tmp_path):
    from cryptography.x509.oid import ExtendedKeyUsageOID

    from tests.sync.test_tls import make_ca, make_leaf
    ca_key, ca = make_ca("Test Hub CA")
    key, cert = make_leaf(ca_key, ca)
    ck, cc = make_leaf(ca_key, ca, cn="kiosk-1", usage=ExtendedKeyUsageOID.CLIENT_AUTH)
    ca_file = _write_pem(tmp_path / "ca.pem", ca)
    cert_file, key_file = _write_pem(tmp_path / "hub.pem", cert), _write_pem(tmp_path / "hub.key", key, True)
    ccert, ckey = _write_pem(tmp_path / "kiosk.pem", cc), _write_pem(tmp_path / "kiosk.key", ck, True)

    live = start_hub(sqlite_hub, "--tls-cert", cert_file, "--tls-key", key_file)
    try:
        assert live.url.startswith("https://127.0.0.1:")
        name, token = sqlite_hub.enrol()
        c = HubClient(live.url, token, ca_file=ca_file)
        assert c.health()["status"] == "ok"
        assert c.send_one("visit", str(uuid.uuid4()), visit(1)).status == 201
        with pytest.raises(HubUnavailable, match="not trusted"):
            HubClient(live.url, token).health()
    finally:
        live.stop()

    live = start_hub(sqlite_hub, "--tls-cert", cert_file, "--tls-key", key_file, "--client-ca", ca_file,
                     cert=(ccert, ckey))
    try:
        c = HubClient(live.url, token, ca_file=ca_file, client_cert=ccert, client_key=ckey)
        assert c.send_one("visit", str(uuid.uuid4()), visit(2)).status == 201
        with pytest.raises(HubUnavailable):
            HubClient(live.url, token, ca_file=ca_file).health()
        assert live.proc.poll() is None
    finally:
        live.stop()


def test_serve_refuses_bad_options(sqlite_hub, tmp_path):
    r = sqlite_hub.cli("serve", "--bind", "127.0.0.1:notaport")
    assert r.returncode == 2 and r.stderr.startswith("error: --bind")
    r = sqlite_hub.cli("serve", "--bind", "127.0.0.1:0", "--tls-cert", str(tmp_path / "missing.pem"),
                       "--tls-key", str(tmp_path / "missing.key"))
    assert r.returncode == 2 and "no such file" in r.stderr
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        r = sqlite_hub.cli("serve", "--bind", f"127.0.0.1:{s.getsockname()[1]}")
    assert r.returncode == 3 and r.stderr.startswith("error: cannot bind")


def test_a_deep_queue_is_answered_503_at_once_not_left_to_time_out(sqlite_hub):
    """One thread, held by a write waiting for the store: a write queued behind it makes the next one an
    immediate 503 with Retry-After (the sender's "not delivered, retry"), the queued one is refused when
    its turn comes after waiting too long, nothing refused is written, and other paths are not shed."""
    import threading

    from tests.hub import contract
    from tests.hub.test_inflight import WriteBlocker

    sqlite_hub.extra["KIOSK_HUB_SHED_SECONDS"] = "1"
    live = start_hub(sqlite_hub, "--threads", "1", workers=1)
    try:
        d = Device(live)
        assert d.post("/v1/visits", visit(1)).status_code == 201
        answers: dict[str, object] = {}

        def send(name, fn):
            try:
                answers[name] = fn()
            except requests.RequestException as e:
                answers[name] = e

        blocker = WriteBlocker(sqlite_hub, 0)      # SQLite's write lock: the one thread's write waits on it
        keys = {n: str(uuid.uuid4()) for n in ("held", "queued", "shed")}
        try:
            held = threading.Thread(target=send, args=("held", lambda: d.post("/v1/visits", visit(2), keys["held"])))
            held.start()
            time.sleep(1.0)                          # the thread is taken
            probe = threading.Thread(target=send, args=("healthz", lambda: requests.get(live.url + "/healthz",
                                                                                         timeout=30)))
            queued = threading.Thread(target=send, args=("queued", lambda: requests.post(
                live.url + "/v1/visits", json=visit(3), timeout=30,
                headers={"Authorization": f"Bearer {d.token}", "Idempotency-Key": keys["queued"]})))
            queued.start()
            probe.start()
            time.sleep(1.5)                          # the queued write has now waited longer than 1 s
            t0 = time.monotonic()
            shed = requests.post(live.url + "/v1/visits", json=visit(4), timeout=30,
                                 headers={"Authorization": f"Bearer {d.token}", "Idempotency-Key": keys["shed"]})
            took = time.monotonic() - t0
            assert shed.status_code == 503 and shed.json()["error"] == "unavailable", shed.text
            assert took < 0.8, f"the refusal took {took:.2f} s: it must not wait in the queue"
            assert 1 <= int(shed.headers["Retry-After"]) <= 30
            contract.check(shed)
            with pytest.raises(HubUnavailable) as e:   # the kiosk's client: not delivered, retry later
                HubClient(live.url, d.token).send_one("visit", keys["shed"], visit(4))
            assert e.value.delivered is False
        finally:
            blocker.release()
        for t in (held, queued, probe):
            t.join(30)
        assert answers["held"].status_code == 201
        assert answers["queued"].status_code == 503 and answers["queued"].json()["error"] == "unavailable"
        assert answers["healthz"].status_code == 200      # probes (and the dashboard) are never shed
        assert d.count("ingest_visit") == 2                # visits 1 and 2; nothing refused was written
        for name, body in (("queued", visit(3)), ("shed", visit(4))):   # the retries are first writes
            r = d.post("/v1/visits", body, keys[name])
            assert r.status_code == 201 and "Idempotent-Replayed" not in r.headers
        assert live.proc.poll() is None
    finally:
        live.stop()


def test_the_dashboard_and_probes_go_before_queued_device_writes(sqlite_hub):
    """One thread, held; three batches of device writes queue, then a probe and a dashboard page: once the
    thread is free, the probe and the page are answered before the queued writes are processed."""
    import threading

    from tests.hub.test_inflight import WriteBlocker

    sqlite_hub.extra["KIOSK_HUB_SHED_SECONDS"] = "0"     # nothing shed: every queued write is processed
    live = start_hub(sqlite_hub, "--threads", "1", workers=1)
    try:
        d = Device(live)
        done: dict[str, float] = {}
        status: dict[str, int] = {}

        def send(name, fn):
            r = fn()
            done[name] = time.monotonic()
            status[name] = r.status_code

        def batch(n):
            items = [{"kind": "visit", "idempotency_key": str(uuid.uuid4()), "body": visit(1000 * n + i)}
                     for i in range(100)]
            return requests.post(live.url + "/v1/batch", json={"items": items}, timeout=60,
                                 headers={"Authorization": f"Bearer {d.token}", "Idempotency-Key": str(uuid.uuid4())})

        blocker = WriteBlocker(sqlite_hub, 0)
        threads = []
        try:
            threads.append(threading.Thread(target=send, args=("held", lambda: batch(0))))
            threads[-1].start()
            time.sleep(1.0)
            for n in (1, 2, 3):
                threads.append(threading.Thread(target=send, args=(f"write{n}", lambda n=n: batch(n))))
                threads[-1].start()
                time.sleep(0.3)
            for name, path in (("readyz", "/readyz"), ("page", "/accounts/login/")):
                threads.append(threading.Thread(target=send, args=(name, lambda p=path: requests.get(
                    live.url + p, timeout=60))))
                threads[-1].start()
                time.sleep(0.3)
        finally:
            blocker.release()
        for t in threads:
            t.join(60)
        assert status == {"held": 200, "write1": 200, "write2": 200, "write3": 200, "readyz": 200, "page": 200}
        first_write = min(done[f"write{n}"] for n in (1, 2, 3))
        assert done["readyz"] < first_write and done["page"] < first_write, done
    finally:
        live.stop()
