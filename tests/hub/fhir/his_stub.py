"""A test HIS: a small FHIR server on loopback that takes `transaction` Bundles (POST to its base URL), as a
station's medical software would from the hub's push.

Each bundle is parsed with both validating libraries (fhirclient R4 strict, fhir.resources R4B) before it is
accepted; an invalid one is answered 400 and kept in `invalid`. Accepted PUTs are stored by type and id (a
repeat overwrites: PUT semantics), and every Encounter received is appended to `received` in arrival order,
so a test can check the HIS saw each state change in order and ended at the latest. It answers with a
`transaction-response` Bundle. Used by tests/hub/fhir/test_push*.py and bench/fhir.py.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    encounter_id: str
    status: str
    queue_state: str
    at: float                      # time.time() of receipt
    bundle_types: tuple[str, ...]


@dataclass
class HisStub:
    token: str = ""                # the bearer token the hub must send (empty: none required)
    validate: bool = True
    resources: dict[tuple[str, str], dict] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    invalid: list[str] = field(default_factory=list)
    refused: int = 0               # requests without the right token
    bundles: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/fhir"

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.server_address[1]

    def start(self) -> "HisStub":
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):  # quiet
                pass

            def setup(self):
                super().setup()
                # the answer's head and body go out in two writes: without this, Nagle and the client's
                # delayed ACK hold the body 40 ms (a real HIS server would not be measured for that)
                self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def _answer(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if stub.token and self.headers.get("Authorization") != f"Bearer {stub.token}":
                    with stub._lock:
                        stub.refused += 1
                    return self._answer(401, _outcome("bearer token required"))
                status, body = stub.take(raw)
                self._answer(status, body)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="his-stub", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> "HisStub":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def take(self, raw: bytes) -> tuple[int, dict]:
        try:
            bundle = json.loads(raw)
            if bundle.get("resourceType") != "Bundle" or bundle.get("type") != "transaction":
                raise ValueError("not a transaction Bundle")
            if self.validate:
                from tests.hub.fhir.validate import parse_both
                parse_both(bundle)
            for e in bundle["entry"]:
                r, req = e["resource"], e["request"]
                if req["method"] != "PUT" or req["url"] != f"{r['resourceType']}/{r['id']}":
                    raise ValueError(f"entry is not a PUT by id: {req}")
        except Exception as e:  # noqa: BLE001 - any fault in the bundle is the hub's bug: kept for the test
            with self._lock:
                self.invalid.append(f"{type(e).__name__}: {str(e)[:300]}")
            return 400, _outcome(f"invalid bundle: {type(e).__name__}")
        at = time.time()
        with self._lock:
            self.bundles += 1
            for e in bundle["entry"]:
                r = e["resource"]
                self.resources[(r["resourceType"], r["id"])] = r
                if r["resourceType"] == "Encounter":
                    qs = next((x["valueCoding"]["code"] for x in r.get("extension", [])
                               if x["url"].endswith("queue-state")), "")
                    self.received.append(Received(r["id"], r["status"], qs, at,
                                                  tuple(x["resource"]["resourceType"] for x in bundle["entry"])))
        return 200, {"resourceType": "Bundle", "type": "transaction-response",
                     "entry": [{"response": {"status": "200 OK",
                                             "location": f"{e['request']['url']}/_history/1"}}
                               for e in bundle["entry"]]}

    def encounters(self) -> dict[str, dict]:
        with self._lock:
            return {rid: r for (t, rid), r in self.resources.items() if t == "Encounter"}

    def states_seen(self) -> dict[str, list[str]]:
        """Per Encounter, the queue states received in order, a repeat of the same state right after itself
        dropped (a retried bundle the HIS had already taken)."""
        out: dict[str, list[str]] = {}
        with self._lock:
            for r in self.received:
                seq = out.setdefault(r.encounter_id, [])
                if not seq or seq[-1] != r.queue_state:
                    seq.append(r.queue_state)
        return out


def _outcome(text: str) -> dict:
    return {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "invalid",
                                                           "diagnostics": text}]}
