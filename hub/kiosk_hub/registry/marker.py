"""DATA_DIR/registry.changed: how an enrolment or revocation reaches every worker on this host at once.

registry.services replaces the file once such a change is committed; the token cache of each worker
(ingest.devices) reads its generation before every lookup and drops its entries when it has changed.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from django.conf import settings


def path() -> Path:
    return settings.DATA_DIR / "registry.changed"


def generation() -> tuple[int, int]:
    """The file's identity now ((0, 0) when there is none): it differs after every announce()."""
    try:
        st = os.stat(path())
    except OSError:
        return (0, 0)
    return (st.st_ino, st.st_mtime_ns)


def announce() -> None:
    """Announce an enrolment or revocation to every worker on this host (a new file each time, so its
    inode changes even when two land within the clock's resolution)."""
    target = path()
    tmp = target.with_name(f".registry.changed.{os.getpid()}.{threading.get_ident()}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
        os.write(fd, str(time.time_ns()).encode())
        os.close(fd)
        os.replace(tmp, target)
    except OSError:
        pass  # not our directory: the cache's seconds still bound how long a worker keeps the old answer
