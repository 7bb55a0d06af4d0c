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

from gunicorn.workers.gthread import TConn, ThreadWorker

HEADER_SECONDS = 10.0
HEADER_BYTES = 16384
IO_SECONDS = 10


def _timeouts(sock: socket.socket) -> None:
    tv = struct.pack("@ll", IO_SECONDS, 0)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, tv)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, tv)


class HubWorker(ThreadWorker):
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
        conn = TConn(self.cfg, client, addr, listener.getsockname())  # non-blocking until handed to a thread
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
