"""`kiosk wipe`: crypto-shred, then destroy the data, then refuse to run until re-provisioned.

Order matters. The data key goes first: once it is overwritten and unlinked,
every sealed field in every copy of the database (the file, its WAL, old
flash blocks the card's wear-levelling kept, backups made without their own
key) is unreadable. Then every file in the data directory is overwritten in
place and unlinked — that removes what was never sealed (visit dates, queue
numbers, masked IDs, eligibility codes) as far as the filesystem allows.
Last, a marker (`<data_dir>/.wiped`, no personal data) makes the kiosk refuse
to start until `kiosk datakey init --after-wipe` re-provisions it.

Stop the kiosk services first (`systemctl stop kiosk.service kiosk-sync.service`):
a process that still holds the database open could write to it again.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from kiosk.clock import iso_utc
from kiosk.config import Config
from kiosk.logs import event
from kiosk.privacy import datakey

log = logging.getLogger(__name__)


def _overwrite(path: Path) -> int:
    """Overwrite a file in place; 0 when this process may not write it (it is still unlinked by the caller)."""
    size = path.stat().st_size
    try:
        f = open(path, "r+b", buffering=0)
    except PermissionError:
        # e.g. a -shm file root created by running a command by hand: the directory is the kiosk user's, so the
        # file can still be unlinked; the data it held is sealed or transient.
        log.warning("event=wipe_not_overwritten file=%s", path.name)
        return 0
    with f:
        for fill in (None, b"\0"):  # one pass random, one pass zeros
            f.seek(0)
            left = size
            while left > 0:
                n = min(left, 1 << 20)
                f.write(secrets.token_bytes(n) if fill is None else fill * n)
                left -= n
            os.fsync(f.fileno())
    return size


def wipe(cfg: Config, *, reason: str, actor: str, now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(timezone.utc)
    key_file = datakey.key_path(cfg)
    key_id = None
    try:
        key_id = datakey.read(key_file).key_id
    except Exception:  # a missing or unreadable key is still shredded / reported below
        pass
    key_error = None
    try:
        shredded = datakey.shred(key_file)
    except OSError as e:
        # The key is intact (an older layout: root-owned, or on a read-only /etc). Destroy the data anyway —
        # stopping here would leave every name readable — and report the key, so the caller can say so.
        shredded = False
        key_error = f"{e.strerror or e}"
    files = 0
    overwritten = 0
    data_dir = cfg.data_dir
    if data_dir.exists():
        for path in sorted(data_dir.rglob("*"), key=lambda p: len(p.parts), reverse=True):
            if path.is_symlink():
                path.unlink()
            elif path.is_file():
                overwritten += _overwrite(path)
                path.unlink()
                files += 1
            elif path.is_dir():
                path.rmdir()
        # A database outside the data directory (storage.database absolute) goes too.
    db = cfg.database
    for p in (db, Path(str(db) + "-wal"), Path(str(db) + "-shm"), Path(str(db) + "-journal")):
        if p.exists():
            overwritten += _overwrite(p)
            p.unlink()
            files += 1
    data_dir.mkdir(parents=True, exist_ok=True)
    info = {"at": iso_utc(now), "reason": reason, "actor": actor, "key_id": key_id, "key_shredded": shredded,
            "key_file": str(key_file), "key_error": key_error, "files_destroyed": files,
            "bytes_overwritten": overwritten}
    marker = datakey.marker_path(cfg)
    marker.write_text(json.dumps(info) + "\n")
    event(log, "device_wiped", reason=reason, actor=actor, files=files, key_shredded=shredded,
          key_error=key_error or "-")
    return info


def reprovisioned(cfg: Config) -> None:
    """Clear the wipe marker (called by `kiosk datakey init --after-wipe` once a new key exists)."""
    m = datakey.marker_path(cfg)
    if m.exists():
        m.unlink()
