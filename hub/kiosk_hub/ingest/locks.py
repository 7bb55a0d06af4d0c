"""Idempotency keys in flight: a second request with a key whose first is still being processed gets 409
at once, and a key whose worker died is free again (never stuck at 409).

PostgreSQL: `pg_try_advisory_xact_lock(id)` inside the writing transaction. It never waits, and it ends
with the transaction: at commit, at rollback, or when the server sees a dead worker's connection close.

SQLite (embedded, one host, a few workers): an open-file-description lock (`F_OFD_SETLK`) on one byte
of `DATA_DIR/inflight.lock` per key, held from before the transaction until after it. It never waits
either, it conflicts between threads and between processes, and the kernel drops it when the worker
dies, so it frees itself exactly like the PostgreSQL lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import struct
from typing import Iterator

from django.conf import settings
from django.db import connection

_OFFSET_MASK = (1 << 62) - 1


def lock_id(device_id: int, key: str) -> int:
    """A signed 64-bit id for (device, key): PostgreSQL's advisory-lock space is one bigint."""
    d = hashlib.sha256(f"{device_id}\0{key}".encode("utf-8")).digest()
    return struct.unpack(">q", d[:8])[0]


def try_lock_pg(ids: list[int]) -> list[bool]:
    """Inside a transaction: take each advisory lock without waiting; True where it was taken."""
    if not ids:
        return []
    with connection.cursor() as c:
        c.execute("SELECT pg_try_advisory_xact_lock(x) FROM unnest(%s::bigint[]) WITH ORDINALITY AS t(x, n) "
                  "ORDER BY n", [ids])
        return [bool(r[0]) for r in c.fetchall()]


def _flock_struct(l_type: int, start: int) -> bytes:
    # struct flock: short l_type, short l_whence, off_t l_start, off_t l_len, pid_t l_pid (0 for OFD locks).
    return struct.pack("@hhqqi4x", l_type, os.SEEK_SET, start, 1, 0)


@contextlib.contextmanager
def file_locks(ids: list[int]) -> Iterator[list[bool]]:
    """Hold one-byte OFD locks for the ids (without waiting) for the duration; yields which were taken."""
    path = settings.DATA_DIR / "inflight.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        taken = []
        for i in ids:
            try:
                fcntl.fcntl(fd, fcntl.F_OFD_SETLK, _flock_struct(fcntl.F_WRLCK, i & _OFFSET_MASK))
                taken.append(True)
            except OSError:
                taken.append(False)
        yield taken
    finally:
        os.close(fd)  # closing the description drops all its locks


def uses_pg() -> bool:
    return connection.vendor == "postgresql"
