"""The gunicorn worker `kiosk-hub serve` uses: gthread, hardened against stalled clients.

Stock gthread hands every new connection to a thread, which then waits up to 5 s for the first byte
and reads the headers with no time limit: a few hundred stalled connections hold every thread. Here a
plain-HTTP connection stays in the worker's poller, costing no thread, until its complete header block
has arrived (read without blocking, at most HEADER_BYTES), and is closed if that takes longer than
HEADER_SECONDS. Once in a thread, socket reads and writes time out after IO_SECONDS (SO_RCVTIMEO /
SO_SNDTIMEO), so a body that stalls frees its thread too. TLS connections (tests and small sites;
production terminates TLS in nginx) get the I/O timeouts but do their handshake in the thread.
"""

from __future__ import annotations

import selectors
import socket
import struct
import time
from functools import partial

from gunicorn import util
from gunicorn.workers.gthread import TConn, ThreadWorker

HEADER_SECONDS = 10.0
HEADER_BYTES = 16384
IO_SECONDS = 10
LINGER_SECONDS = 2.0


def _timeouts(sock: socket.socket) -> None:
    tv = struct.pack("@ll", IO_SECONDS, 0)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, tv)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, tv)


class HubConn(TConn):
    worker: "HubWorker"

    def close(self, graceful=False):
        # Stock gthread lingers for the client's FIN in the worker's main loop, up to 2 s per connection:
        # clients that never close would stall accepting. Linger in the poller instead.
        if graceful:
            self.worker.linger(self)
        else:
            util.close(self.sock)


class HubWorker(ThreadWorker):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.lingering: list[HubConn] = []

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

    def linger(self, conn) -> None:
        try:
            conn.sock.shutdown(socket.SHUT_WR)
            conn.sock.setblocking(False)
            self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._drain, conn))
        except (OSError, ValueError, KeyError):
            util.close(conn.sock)
            return
        conn.linger_until = time.monotonic() + LINGER_SECONDS
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
