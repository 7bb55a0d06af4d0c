"""Encrypted backups of the database to removable media, the key held separately.

A backup is one file: a header line, then AES-256-GCM chunks under a random
*file key*; the file key is wrapped (AES-GCM) under the *backup key*, a
separate 256-bit secret in its own file that the technician keeps apart from
the media (a second stick, or printed). The plaintext inside is the device's
data key followed by a consistent snapshot of the database (SQLite's
serialize), so a backup restores onto a replacement device with the backup
key alone, and is useless without it. Nothing is ever written to the media in
clear, not even temporarily.

Chunks are 1 MiB; each chunk's nonce is derived from the file nonce and its
index, and the associated data binds the header, the index and whether it is
the last chunk, so chunks cannot be reordered, dropped or truncated unnoticed.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import struct
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kiosk.clock import iso_utc
from kiosk.errors import KioskError, UsageError
from kiosk.store.sealing import DataKey

MAGIC = b"TRAMYTE-KIOSK-BACKUP-1\n"
CHUNK = 1 << 20


class BackupError(KioskError):
    pass


def create_backup_key(path: Path) -> bytes:
    key = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key.hex() + "\n")
        os.fsync(f.fileno())
    return key


def read_backup_key(path: Path) -> bytes:
    try:
        raw = bytes.fromhex(Path(path).read_text().strip())
    except FileNotFoundError:
        raise UsageError(f"--key-file: {path} does not exist (create one with --new-key)") from None
    except (OSError, ValueError):
        raise UsageError(f"--key-file: {path} is not a 64-hex-digit backup key") from None
    if len(raw) != 32:
        raise UsageError(f"--key-file: {path} is not a 64-hex-digit backup key")
    return raw


def _nonce(base: bytes, index: int) -> bytes:
    return base[:4] + struct.pack(">Q", int.from_bytes(base[4:], "big") ^ index)


def write_backup(conn: sqlite3.Connection, data_key: DataKey, backup_key: bytes, out: Path,
                 now: datetime | None = None) -> dict[str, Any]:
    image = conn.serialize()  # a consistent snapshot, in memory: nothing clear touches the media
    file_key = secrets.token_bytes(32)
    wrap_nonce = secrets.token_bytes(12)
    base = secrets.token_bytes(12)
    header = {"version": 1, "created_at": iso_utc(now or datetime.now(timezone.utc)), "key_id": data_key.key_id,
              "db_bytes": len(image), "chunk": CHUNK,
              "wrapped_key": (wrap_nonce + AESGCM(backup_key).encrypt(wrap_nonce, file_key, MAGIC)).hex(),
              "nonce": base.hex()}
    head = MAGIC + json.dumps(header, sort_keys=True).encode() + b"\n"
    plain = data_key.master + image
    aead = AESGCM(file_key)
    tmp = out.with_name(out.name + ".part")
    with open(tmp, "wb") as f:
        f.write(head)
        chunks = max(1, -(-len(plain) // CHUNK))
        for i in range(chunks):
            last = i == chunks - 1
            ad = head + struct.pack(">QB", i, last)
            f.write(aead.encrypt(_nonce(base, i), plain[i * CHUNK:(i + 1) * CHUNK], ad))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, out)
    return {"path": str(out), "bytes": out.stat().st_size, "db_bytes": len(image), "key_id": data_key.key_id,
            "created_at": header["created_at"]}


def read_backup(path: Path, backup_key: bytes) -> tuple[dict[str, Any], bytes, bytes]:
    """(header, data key, database image) from a backup file; raises BackupError if it does not open."""
    try:
        blob = Path(path).read_bytes()
    except OSError as e:
        raise UsageError(f"cannot read the backup {path}: {e.strerror}") from None
    if not blob.startswith(MAGIC):
        raise BackupError(f"{path} is not a kiosk backup")
    try:
        nl = blob.index(b"\n", len(MAGIC))
        head = blob[:nl + 1]
        header = json.loads(blob[len(MAGIC):nl])
        wrapped = bytes.fromhex(header["wrapped_key"])
        base = bytes.fromhex(header["nonce"])
        step = int(header["chunk"]) + 16
        db_bytes = int(header["db_bytes"])
        if len(base) != 12 or step <= 16:
            raise ValueError("bad nonce or chunk size")
    except (ValueError, KeyError, TypeError, AttributeError):
        raise BackupError(f"{path}: the backup's header is damaged") from None
    try:
        file_key = AESGCM(backup_key).decrypt(wrapped[:12], wrapped[12:], MAGIC)
    except (InvalidTag, ValueError):
        raise BackupError("the backup key does not open this backup (wrong key, or a damaged header)") from None
    aead = AESGCM(file_key)
    body = blob[nl + 1:]
    chunks = max(1, -(-len(body) // step))
    plain = bytearray()
    for i in range(chunks):
        part = body[i * step:(i + 1) * step]
        ad = head + struct.pack(">QB", i, i == chunks - 1)
        try:
            plain += aead.decrypt(_nonce(base, i), part, ad)
        except (InvalidTag, ValueError):
            raise BackupError(f"the backup is damaged or was altered (chunk {i})") from None
    if len(plain) != 32 + db_bytes:
        raise BackupError("the backup is truncated")
    return header, bytes(plain[:32]), bytes(plain[32:])


def install_image(db_path: Path, image: bytes) -> None:
    """Put a database image (from :func:`read_backup`) in place of `db_path`, once SQLite says it is sound.

    A serialized image is a complete database file: it is written beside the target, synced, checked with
    `PRAGMA integrity_check`, and only then renamed over the database (its old WAL and shm go first).
    """
    db_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = db_path.with_name(db_path.name + ".restore")
    if tmp.exists():
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    with os.fdopen(fd, "wb") as f:
        f.write(image)
        f.flush()
        os.fsync(f.fileno())
    target = sqlite3.connect(tmp)
    try:
        ok = str(target.execute("PRAGMA integrity_check").fetchone()[0])
        target.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.DatabaseError as e:
        ok = str(e)
    finally:
        target.close()
    for suffix in ("-wal", "-shm"):
        Path(str(tmp) + suffix).unlink(missing_ok=True)
    if ok != "ok":
        tmp.unlink()
        raise BackupError(f"the restored database fails its integrity check: {ok}")
    for suffix in ("-wal", "-shm"):
        p = Path(str(db_path) + suffix)
        if p.exists():
            p.unlink()
    os.replace(tmp, db_path)
