"""The gunicorn worker `kiosk-hub serve` uses: gthread, hardened against stalled clients.

Stock gthread hands every new connection to a thread, which then waits up to 5 s for the first byte
and reads the headers with no time limit: a few hundred stalled connections hold every thread. Here a
plain-HTTP connection stays in the worker's poller, costing no thread, until its complete header block
has arrived (read without blocking, at most HEADER_BYTES), and is closed if that takes longer than
HEADER_SECONDS. Once in a thread, socket reads and writes time out after IO_SECONDS (SO_RCVTIMEO /
SO_SNDTIMEO), so a body that stalls frees its thread too. TLS connections (tests and small sites;
production terminates TLS in nginx) get the I/O timeouts but do their handshake in the thread.

Load shedding. A device write that would wait in the worker's queue longer than SHED_SECONDS
(KIOSK_HUB_SHED_SECONDS, default 3; 0 turns it off) is answered at once with 503 `unavailable` and
`Retry-After`, which the kiosk's sender takes as "not delivered, try again later", instead of queueing
past the sender's 30 s timeout and then being written, timed out on the kiosk and sent again. Two checks,
both only for the writes the contract lets answer 503 (POST /v1/visits, stay-notifications,
audit-entries, batch, heartbeat, eligibility), never for the dashboard, probes or roster files:
- on arrival: the longer of how long the oldest queued request has waited, and the queue ahead of it
  times the recent time per request divided by the threads;
- when a thread takes it: if it has already waited longer than SHED_SECONDS (a burst that arrived
  before the worker had measured anything), it is answered 503 without being read or written.

Two lanes. Requests outside /v1/ (the dashboard, its static files, /healthz, /readyz) are taken by the
next free thread before any queued device request, so a province admin's page during a reconnect storm
waits for a thread, not for the storm's queue.
"""

from __future__ import annotations

import collections
import json
import os
import queue
import selectors
import socket
import struct
import threading
import time
from functools import partial

from gunicorn import util
from concurrent.futures import ThreadPoolExecutor

from gunicorn.workers.gthread import TConn, ThreadWorker

HEADER_SECONDS = 10.0
HEADER_BYTES = 16384
IO_SECONDS = 10
LINGER_SECONDS = 2.0
SHED_LINGER_SECONDS = float(IO_SECONDS)
SHEDDABLE = (b"POST /v1/visits ", b"POST /v1/stay-notifications ", b"POST /v1/audit-entries ",
             b"POST /v1/batch ", b"POST /v1/heartbeat ", b"POST /v1/eligibility ")


def _shed_seconds() -> float:
    try:
        return max(0.0, float(os.environ.get("KIOSK_HUB_SHED_SECONDS", "3")))
    except ValueError:
        return 3.0


def busy_answer(retry_after: int) -> bytes:
    body = json.dumps({"error": "unavailable", "detail": f"the hub is busy; retry in {retry_after} s"}).encode()
    return (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\nRetry-After: %d\r\nConnection: close\r\n\r\n" % (len(body), retry_after)) + body


def _timeouts(sock: socket.socket) -> None:
    tv = struct.pack("@ll", IO_SECONDS, 0)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, tv)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, tv)


class TwoLanes:
    """The thread pool's work queue (SimpleQueue's put/get/get_nowait): items for connections marked
    `hub_first` go before the rest, each lane first in, first out."""

    def __init__(self):
        self._cv = threading.Condition(threading.Lock())
        self._first: collections.deque = collections.deque()
        self._rest: collections.deque = collections.deque()

    def put(self, item, block=True, timeout=None):
        args = getattr(item, "args", None) or (None,)
        with self._cv:
            (self._first if getattr(args[0], "hub_first", False) else self._rest).append(item)
            self._cv.notify()

    def get(self, block=True, timeout=None):
        with self._cv:
            while not (self._first or self._rest):
                if not block:
                    raise queue.Empty
                self._cv.wait()
            return (self._first or self._rest).popleft()

    def get_nowait(self):
        return self.get(False)

    def qsize(self) -> int:
        return len(self._first) + len(self._rest)

    def empty(self) -> bool:
        return not self.qsize()


class HubConn(TConn):
    worker: "HubWorker"

    def close(self, graceful=False):
        # Stock gthread lingers for the client's FIN in the worker's main loop, up to 2 s per connection:
        # clients that never close would stall accepting. Linger in the poller instead.
        if graceful:
            self.worker.linger(self, getattr(self, "hub_linger", LINGER_SECONDS))
        else:
            util.close(self.sock)


class HubWorker(ThreadWorker):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lingering: list[HubConn] = []
        self.shed_seconds = _shed_seconds()
        self.queue_lock = threading.Lock()
        self.queued: collections.OrderedDict[int, float] = collections.OrderedDict()  # id(conn) -> since
        self.running = 0
        self.per_request = 0.0   # moving average of a request's time in a thread (GIL waits included)
        self.shed = 0

    # --- load shedding ------------------------------------------------------------------------------

    def _request_line(self, conn) -> bytes:
        """The start of the connection's next request, without consuming it: what the parser already
        holds (the header block read in the poller, or a kept-alive client's read-ahead), else a peek."""
        if self.cfg.is_ssl:
            return b""
        parser = getattr(conn, "parser", None)
        held = parser.unreader.buf.getvalue() if parser is not None else b""
        if held:
            return held[:64]
        try:
            return conn.sock.recv(64, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except OSError:
            return b""

    def _sheddable(self, conn) -> bool:
        return self.shed_seconds > 0 and self._request_line(conn).startswith(SHEDDABLE)

    def _expected_wait(self) -> float:
        """At least as long as the oldest queued request has waited; at least the queue's work."""
        now = time.monotonic()
        with self.queue_lock:
            if self.running < self.cfg.threads:
                return 0.0
            oldest = now - next(iter(self.queued.values()), now)
            ahead = len(self.queued)
        return max(oldest, ahead * self.per_request / self.cfg.threads)

    def _retry_after(self, wait: float) -> int:
        return max(1, min(30, int(wait + 0.999)))

    def get_thread_pool(self):
        pool = super().get_thread_pool()
        if isinstance(pool, ThreadPoolExecutor) and hasattr(pool, "_work_queue"):
            pool._work_queue = TwoLanes()   # before the first submit: every thread reads this queue
        return pool

    def enqueue_req(self, conn):
        line = self._request_line(conn)
        conn.hub_first = bool(line) and b" /v1/" not in line.split(b"\r\n", 1)[0][:16]
        if self.shed_seconds > 0 and line.startswith(SHEDDABLE):
            wait = self._expected_wait()
            if wait > self.shed_seconds:
                return self._refuse_now(conn, self._retry_after(wait))
        with self.queue_lock:
            self.queued[id(conn)] = time.monotonic()
        super().enqueue_req(conn)

    def _refuse_now(self, conn, retry_after: int) -> None:
        """On the main loop: a non-blocking send of the short answer, then close after the client's body."""
        self.shed += 1
        try:
            conn.sock.setblocking(False)
            conn.sock.send(busy_answer(retry_after))
        except OSError:
            pass
        self.nr_conns -= 1
        if self.cfg.is_ssl:
            util.close(conn.sock)
        else:
            # Its body may still be on the way from a busy client: closing with it unread would reset the
            # connection, and the client could lose the 503 it has not read yet.
            self.linger(conn, SHED_LINGER_SECONDS)

    def handle(self, conn):
        start = time.monotonic()
        with self.queue_lock:
            since = self.queued.pop(id(conn), start)
            self.running += 1
        try:
            if start - since > self.shed_seconds > 0 and self._sheddable(conn):
                self.shed += 1
                try:
                    conn.sock.setblocking(True)
                    conn.sock.sendall(busy_answer(self._retry_after(self.shed_seconds)))
                except OSError:
                    pass
                conn.hub_linger = SHED_LINGER_SECONDS
                return False   # finish_request closes it, lingering for the unread body
            result = super().handle(conn)
            took = time.monotonic() - start
            self.per_request = took if not self.per_request else 0.8 * self.per_request + 0.2 * took
            return result
        finally:
            with self.queue_lock:
                self.running -= 1

    def load_wsgi(self):
        super().load_wsgi()
        app = self.wsgi

        def closing(environ, start_response):
            # gunicorn ignores an application's "Connection: close"; the hub flags refusals it answered
            # without reading the body, so the connection closes instead of waiting to drain that body.
            result = app(environ, start_response)
            if environ.get("kiosk_hub.close"):
                start_response.__self__.force_close()
            return result

        self.wsgi = closing

    def linger(self, conn, seconds: float = LINGER_SECONDS) -> None:
        try:
            conn.sock.shutdown(socket.SHUT_WR)
            conn.sock.setblocking(False)
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._drain, conn))
        except (OSError, ValueError, KeyError):
            util.close(conn.sock)
            return
        conn.linger_until = time.monotonic() + seconds
        self.lingering.append(conn)

    def _drain(self, conn, client):
        try:
            data = client.recv(4096)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._end_linger(conn)

    def _end_linger(self, conn) -> None:
        try:
            self.poller.unregister(conn.sock)
        except (OSError, KeyError, ValueError):
            pass
        try:
            self.lingering.remove(conn)
        except ValueError:
            pass
        util.close(conn.sock)

    def murder_pending(self):
        if not self.alive:  # stopping: a connection that never sent a request has nothing to finish
            for conn in list(self.pending_conns):
                self._drop_pending(conn)
        super().murder_pending()
        now = time.monotonic()
        for conn in [c for c in self.lingering if c.linger_until <= now]:
            self._end_linger(conn)

    def accept(self, listener):
        try:
            client, addr = listener.accept()
        except OSError:
            return  # EAGAIN / ECONNABORTED: another worker took it, or the client left
        self.nr_conns += 1
        try:
            _timeouts(client)
        except OSError:
            pass
        conn = HubConn(self.cfg, client, addr, listener.getsockname())  # non-blocking until handed to a thread
        conn.worker = self
        conn.hub_buf = b""
        conn.timeout = time.monotonic() + HEADER_SECONDS
        self.pending_conns.append(conn)
        cb = self.on_pending_socket_readable if self.cfg.is_ssl else self.on_header_bytes
        self.poller.register(client, selectors.EVENT_READ, partial(cb, conn))

    def _drop_pending(self, conn) -> None:
        try:
            self.poller.unregister(conn.sock)
        except (OSError, KeyError, ValueError):
            pass
        try:
            self.pending_conns.remove(conn)
        except ValueError:
            pass
        self.nr_conns -= 1
        conn.close()

    def on_header_bytes(self, conn, client):
        try:
            chunk = client.recv(HEADER_BYTES)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            return self._drop_pending(conn)
        conn.hub_buf += chunk
        if b"\r\n\r\n" not in conn.hub_buf and len(conn.hub_buf) < HEADER_BYTES:
            return  # still waiting for the end of the headers, in the poller
        self.poller.unregister(client)
        self.pending_conns.remove(conn)
        conn.init()
        conn.parser.unreader.unread(conn.hub_buf)
        conn.hub_buf = b""
        conn.data_ready = True
        self.enqueue_req(conn)
