"""A key in flight gets 409 at once, on both engines; and when the worker holding it is SIGKILLed
mid-request, the key is free again (the lock dies with the transaction), never stuck at 409."""

from __future__ import annotations

import fcntl
import os
import signal
import sqlite3
import struct
import threading
import time
import uuid

import requests

from tests.hub.test_api import Device, visit


def _device_id(hub, name: str) -> int:
    return hub.query("SELECT id FROM registry_device WHERE name = %s", (name,))[0][0]


class WriteBlocker:
    """Holds what a write needs after it has claimed its key: the device row (PostgreSQL) or SQLite's
    write lock. A request that arrives meanwhile claims its key and then waits, i.e. is "in flight"."""

    def __init__(self, hub, device_id: int):
        self.hub = hub
        if hub.engine == "postgres":
            import psycopg
            self.conn = psycopg.connect(hub.db_url.replace("postgres://", "postgresql://"))
            self.conn.execute("SELECT id FROM registry_device WHERE id = %s FOR UPDATE", (device_id,))
        else:
            self.conn = sqlite3.connect(hub.db_url.removeprefix("sqlite:///"), isolation_level=None, timeout=30)
            self.conn.execute("BEGIN IMMEDIATE")

    def release(self) -> None:
        self.conn.rollback() if self.hub.engine == "postgres" else self.conn.execute("ROLLBACK")
        self.conn.close()


def key_held(hub, device_id: int, key: str) -> bool:
    from kiosk_hub.ingest.locks import lock_id
    lid = lock_id(device_id, key)
    if hub.engine == "postgres":
        hi, lo = (lid >> 32) & 0xFFFFFFFF, lid & 0xFFFFFFFF
        rows = hub.query("SELECT classid::bigint, objid::bigint FROM pg_locks WHERE locktype = 'advisory' AND granted")
        return (hi, lo) in rows
    if not (hub.data_dir / "inflight.lock").exists():
        return False
    fd = os.open(hub.data_dir / "inflight.lock", os.O_RDWR)
    try:
        probe = struct.pack("@hhqqi4x", fcntl.F_WRLCK, os.SEEK_SET, lid & ((1 << 62) - 1), 1, 0)
        got = fcntl.fcntl(fd, fcntl.F_OFD_GETLK, probe)
        return struct.unpack("@hhqqi4x", got)[0] != fcntl.F_UNLCK
    finally:
        os.close(fd)


def until(pred, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.1)
    return pred()


def test_in_flight_is_409_at_once_and_never_sticks_after_sigkill(live_hub):
    hub = live_hub.hub
    d = Device(live_hub)
    dev_id = _device_id(hub, d.name)
    key = str(uuid.uuid4())
    blocker = WriteBlocker(hub, dev_id)
    first: list = []

    def send():
        try:
            first.append(d.post("/v1/visits", visit(1), key).status_code)
        except requests.RequestException as e:
            first.append(type(e).__name__)

    t = threading.Thread(target=send, daemon=True)
    try:
        t.start()
        assert until(lambda: key_held(hub, dev_id, key), 20), "the first request never claimed its key"
        t0 = time.monotonic()
        again = d.post("/v1/visits", visit(1), key)
        took = time.monotonic() - t0
        assert again.status_code == 409 and again.json()["error"] == "in_flight"
        assert took < 2.0, f"the 409 took {took:.2f} s: it must not wait for the first request"
        # Other keys of the same device are not refused meanwhile (they wait for the store, then go through).
        assert first == []
        workers = live_hub.worker_pids()
        assert workers
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
    finally:
        blocker.release()
    t.join(30)
    assert first and first[0] != 201, f"the killed worker's request cannot have been answered: {first}"
    assert until(lambda: not key_held(hub, dev_id, key), 20), "the dead worker's key stayed locked"
    answers = []
    assert until(lambda: answers.append(d.post("/v1/visits", visit(1), key).status_code) or answers[-1] == 201, 30), \
        f"the key stayed refused after its worker died: {answers}"
    assert 409 not in answers[1:] or answers[-1] == 201
    assert d.count("ingest_visit") == 1
    assert live_hub.proc.poll() is None and set(live_hub.worker_pids()).isdisjoint(workers)
