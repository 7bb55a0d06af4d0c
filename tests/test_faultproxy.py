"""The fault proxy itself: it forwards faithfully, and each fault does what its name says."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from tests.faultproxy import FaultProxy


class _Echo(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[bytes] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Echo.seen.append(body)
        out = json.dumps({"got": body.decode(), "n": len(_Echo.seen)}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def do_GET(self):  # chunked answer, to exercise the proxy's framing
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for part in (b"hello ", b"world"):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
        self.wfile.write(b"0\r\n\r\n")

    def log_message(self, *a):
        pass


@pytest.fixture
def upstream():
    _Echo.seen = []
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv
    srv.shutdown()


def test_forwards_keepalive_and_chunked(upstream):
    with FaultProxy("127.0.0.1", upstream.server_address[1]) as p, requests.Session() as s:
        for i in range(5):
            r = s.post(p.url + "/v1/x", data=f"body{i}", timeout=5)
            assert r.status_code == 201 and r.json()["got"] == f"body{i}"
        assert s.get(p.url + "/c", timeout=5).text == "hello world"
        assert p.counters.forwarded == 6 and p.counters.connections == 1


def test_fail_never_reaches_upstream(upstream):
    with FaultProxy("127.0.0.1", upstream.server_address[1], fail_rate=1.0) as p:
        r = requests.post(p.url + "/v1/x", data="a", timeout=5)
        assert r.status_code == 503 and r.json()["error"] == "unavailable"
        assert _Echo.seen == [] and p.counters.failed == 1


def test_drop_reaches_upstream_but_answer_is_lost(upstream):
    with FaultProxy("127.0.0.1", upstream.server_address[1], drop_rate=1.0) as p:
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.post(p.url + "/v1/x", data="a", timeout=5)
        assert _Echo.seen == [b"a"] and p.counters.dropped == 1


def test_reset_never_reaches_upstream(upstream):
    with FaultProxy("127.0.0.1", upstream.server_address[1], reset_rate=1.0) as p:
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.post(p.url + "/v1/x", data="a", timeout=5)
        assert _Echo.seen == [] and p.counters.reset == 1


def test_rates_change_while_running_and_paths_filter(upstream):
    with FaultProxy("127.0.0.1", upstream.server_address[1], fail_rate=1.0, only_paths=("/v1/batch",)) as p:
        assert requests.post(p.url + "/v1/x", data="a", timeout=5).status_code == 201
        assert requests.post(p.url + "/v1/batch", data="a", timeout=5).status_code == 503
        p.set(fail_rate=0.0)
        assert requests.post(p.url + "/v1/batch", data="b", timeout=5).status_code == 201
