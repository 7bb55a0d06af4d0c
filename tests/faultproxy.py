"""A fault-injecting HTTP proxy for tests: the network between a real sender and a real hub.

Fault injection lives here, not in product code (DEVELOPERS.md "Faults come
from a proxy or harness in tests/"). The proxy listens on loopback, forwards
each HTTP/1.1 request to the upstream hub and, per request, may:

- ``fail``: answer 503 itself; the hub never sees the request;
- ``delay``: hold the request before forwarding it;
- ``drop``: forward the request, read the hub's whole answer, then close the
  client's connection without sending it (the write committed, the answer was
  lost: the retry must be answered as a replay, never written twice);
- ``reset``: close the client's connection with a TCP RST before forwarding.

Faults are drawn from a seeded RNG so a failing run can be repeated; the
counters say what was injected. Rates may be changed while it runs.
"""

from __future__ import annotations

import random
import socket
import struct
import threading
import time
from dataclasses import dataclass, field

_HEAD_LIMIT = 64 * 1024


@dataclass
class Counters:
    forwarded: int = 0
    failed: int = 0
    dropped: int = 0
    reset: int = 0
    delayed: int = 0
    connections: int = 0


class _Closed(Exception):
    pass


def _read_head(sock: socket.socket, buf: bytearray) -> bytes:
    while b"\r\n\r\n" not in buf:
        if len(buf) > _HEAD_LIMIT:
            raise _Closed("head too long")
        chunk = sock.recv(65536)
        if not chunk:
            raise _Closed("eof")
        buf += chunk
    end = buf.index(b"\r\n\r\n") + 4
    head = bytes(buf[:end])
    del buf[:end]
    return head


def _read_exact(sock: socket.socket, buf: bytearray, n: int) -> bytes:
    while len(buf) < n:
        chunk = sock.recv(max(65536, n - len(buf)))
        if not chunk:
            raise _Closed("eof in body")
        buf += chunk
    out = bytes(buf[:n])
    del buf[:n]
    return out


def _read_line(sock: socket.socket, buf: bytearray) -> bytes:
    while b"\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise _Closed("eof in chunk")
        buf += chunk
    end = buf.index(b"\r\n") + 2
    line = bytes(buf[:end])
    del buf[:end]
    return line


def _headers(head: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in head.split(b"\r\n")[1:]:
        if b":" in line:
            k, v = line.split(b":", 1)
            out[k.strip().lower().decode("latin-1")] = v.strip().decode("latin-1")
    return out


def _read_body(sock: socket.socket, buf: bytearray, head: bytes, *, response: bool, request_method: bytes = b"") -> tuple[bytes, bool]:
    """The raw body bytes as framed on the wire, and whether the connection ends after it."""
    h = _headers(head)
    close = h.get("connection", "").lower() == "close"
    if response:
        status = int(head.split(b" ", 2)[1])
        if request_method == b"HEAD" or status in (204, 304) or 100 <= status < 200:
            return b"", close
    if "chunked" in h.get("transfer-encoding", "").lower():
        raw = bytearray()
        while True:
            line = _read_line(sock, buf)
            raw += line
            size = int(line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                while True:  # trailers, then the blank line
                    t = _read_line(sock, buf)
                    raw += t
                    if t == b"\r\n":
                        return bytes(raw), close
            raw += _read_exact(sock, buf, size + 2)
    if "content-length" in h:
        return _read_exact(sock, buf, int(h["content-length"])), close
    if response:  # no framing: the body runs to EOF
        raw = bytearray(buf)
        buf.clear()
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return bytes(raw), True
            raw += chunk
    return b"", close


_503_BODY = b'{"error": "unavailable", "detail": "fault proxy"}'
_503 = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
        b"Connection: close\r\nContent-Length: " + str(len(_503_BODY)).encode() + b"\r\n\r\n" + _503_BODY)


@dataclass
class FaultProxy:
    upstream_host: str
    upstream_port: int
    fail_rate: float = 0.0
    drop_rate: float = 0.0
    reset_rate: float = 0.0
    delay: float = 0.0
    seed: int = 0
    only_paths: tuple[str, ...] = ()  # faults only for these path prefixes (empty: all)
    counters: Counters = field(default_factory=Counters)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._stop = threading.Event()
        self._conns: set[socket.socket] = set()
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "FaultProxy":
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0))
        s.listen(256)
        s.settimeout(0.2)
        self._sock = s
        self.port = s.getsockname()[1]
        threading.Thread(target=self._accept, name="faultproxy", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._sock:
            self._sock.close()
        with self._lock:
            for c in list(self._conns):
                try:
                    c.close()
                except OSError:
                    pass

    def __enter__(self) -> "FaultProxy":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def set(self, **rates: float) -> None:
        for k, v in rates.items():
            if not hasattr(self, k):
                raise AttributeError(k)
            setattr(self, k, v)

    def _draw(self, path: str) -> str:
        if self.only_paths and not any(path.startswith(p) for p in self.only_paths):
            return "forward"
        with self._lock:
            r = self._rng.random()
        for name, rate in (("fail", self.fail_rate), ("reset", self.reset_rate), ("drop", self.drop_rate)):
            if r < rate:
                return name
            r -= rate
        return "forward"

    def _accept(self) -> None:
        assert self._sock is not None
        while not self._stop.is_set():
            try:
                client, _ = self._sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with self._lock:
                self.counters.connections += 1
                self._conns.add(client)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        upstream: socket.socket | None = None
        cbuf, ubuf = bytearray(), bytearray()
        try:
            while not self._stop.is_set():
                head = _read_head(client, cbuf)
                body, client_close = _read_body(client, cbuf, head, response=False)
                method, path = head.split(b" ", 2)[:2]
                action = self._draw(path.decode("latin-1"))
                if self.delay:
                    with self._lock:
                        self.counters.delayed += 1
                    time.sleep(self.delay)
                if action == "fail":
                    with self._lock:
                        self.counters.failed += 1
                    client.sendall(_503)
                    return
                if action == "reset":
                    with self._lock:
                        self.counters.reset += 1
                    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return
                if upstream is None:
                    upstream = socket.create_connection((self.upstream_host, self.upstream_port), timeout=120)
                    ubuf.clear()
                upstream.sendall(head + body)
                rhead = _read_head(upstream, ubuf)
                rbody, upstream_close = _read_body(upstream, ubuf, rhead, response=True, request_method=method)
                if upstream_close:
                    upstream.close()
                    upstream = None
                if action == "drop":
                    with self._lock:
                        self.counters.dropped += 1
                    return  # the hub answered; the client never hears it
                client.sendall(rhead + rbody)
                with self._lock:
                    self.counters.forwarded += 1
                if client_close:
                    return
        except (_Closed, OSError, ValueError, IndexError):
            return
        finally:
            with self._lock:
                self._conns.discard(client)
            try:
                client.close()
            except OSError:
                pass
            if upstream is not None:
                upstream.close()
