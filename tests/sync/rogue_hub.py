"""A hub that lies: a real HTTP server on loopback whose answers each test writes by hand (issue 13 item 5).

    with RogueHub() as hub:
        hub.routes["/v1/roster/updates"] = json_answer({"files": "nope"})
        hub.routes["/v1/roster/files/1"] = raw_answer(200, {"Content-Length": "999999999"}, b"x")

A route is a callable given the request handler; it writes whatever bytes it
likes to `handler.wfile` (headers included) and the connection is closed
afterwards. `hits` lists the paths asked for, `connections` counts accepted
sockets.
"""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import urlsplit

Route = Callable[[BaseHTTPRequestHandler], None]


def raw_answer(status: int, headers: dict[str, str], body: bytes) -> Route:
    """Exactly these headers and bytes, whether or not they agree with each other; then the connection closes."""
    def route(h: BaseHTTPRequestHandler) -> None:
        head = [f"HTTP/1.1 {status} X"] + [f"{k}: {v}" for k, v in headers.items()] + ["Connection: close", "", ""]
        h.wfile.write("\r\n".join(head).encode() + body)
        h.wfile.flush()
    return route


def json_answer(obj: Any, status: int = 200) -> Route:
    body = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    return raw_answer(status, {"Content-Type": "application/json", "Content-Length": str(len(body))}, body)


def listing(*files: dict, latest: int | None = None) -> dict:
    return {"latest_version": latest if latest is not None else (files[-1]["version"] if files else None),
            "up_to_date": False, "files": list(files)}


def file_entry(data: bytes, kind: str = "snapshot", version: int = 1, since: int | None = None, fid: int = 1,
               **over: Any) -> dict:
    entry = {"file_id": fid, "kind": kind, "version": version, "since": since, "size": len(data),
             "sha256": hashlib.sha256(data).hexdigest(), "gzip": data[:2] == b"\x1f\x8b",
             "url": f"/v1/roster/files/{fid}"}
    entry.update(over)
    return entry


class RogueHub:
    def __init__(self, host: str = "127.0.0.1"):
        self.routes: dict[str, Route] = {}
        self.hits: list[str] = []
        self.connections = 0
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                hub.connections += 1
                super().setup()

            def log_message(self, *a) -> None:
                pass

            def _any(self) -> None:
                path = urlsplit(self.path).path
                hub.hits.append(path)
                n = int(self.headers.get("Content-Length") or 0)
                if n:
                    self.rfile.read(n)
                route = hub.routes.get(path) or json_answer({"error": "not_found"}, 404)
                try:
                    route(self)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                self.close_connection = True

            do_GET = do_POST = do_HEAD = _any

        self.server = ThreadingHTTPServer((host, 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://{host}:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> "RogueHub":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
