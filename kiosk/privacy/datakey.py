"""The device data key: its file, provisioning, loading and shredding; opening sealed fields.

One 256-bit secret per device, in a file OUTSIDE the data directory
(`privacy.data_key_file`, provisioned as `/etc/kiosk/key/data.key`: owner and
group kiosk, mode 0640, alone in a 0700 directory the kiosk user owns — so the
sync process can crypto-shred it on the hub's order without reaching any other
secret in `/etc/kiosk`),
so a copy of the data directory — a database file, its WAL, a backup — holds
ciphertext only. The cipher itself (AES-256-GCM per field, HMAC-SHA256 lookups,
subkeys by HKDF) is :class:`kiosk.store.sealing.DataKey`, re-exported here.

Whoever opens the database passes the key (`store.connect(path, key=...)`); it
then travels with the connection, so nothing looks a key up globally, and
:func:`reveal` opens a value under the key it is given, never "whichever works".

Sealed values carry the ``enc1:`` prefix; values without it pass through, so
rows written before encryption was switched on still read (and `kiosk datakey
encrypt-existing` converts them).

Destroying the key file (``kiosk wipe``) makes every sealed value unreadable,
whatever copies of the database exist: that is the crypto-shred.
"""

from __future__ import annotations

import json
import os
import pwd
import secrets
import stat
from pathlib import Path
from typing import Any

from kiosk.config import Config
from kiosk.errors import ConfigError, UnavailableError
from kiosk.store import meta
from kiosk.store.connection import Executor
from kiosk.store.sealing import KEY_BYTES, PATIENT_FIELDS, PREFIX, DataKey, DecryptError, is_sealed

__all__ = ["DataKey", "DecryptError", "DeviceWiped", "PATIENT_FIELDS", "PREFIX", "bind", "check_not_wiped",
           "conceal", "create", "database_key_id", "identity_keys_for_id", "is_sealed", "key_path", "load",
           "marker_path", "patient_identity_key", "read", "reveal", "shred", "unseal_tree", "write_restored"]

KEY_GROUP = "kiosk"
KEY_ID_META = meta.KEY_ID
WIPED_MARKER = ".wiped"


class DeviceWiped(UnavailableError):
    """The device was wiped; it must be re-provisioned before it runs again."""


def unseal_tree(key: DataKey | None, obj: Any, context: str = "outbox.payload") -> Any:
    """A payload with every sealed value opened (what the sender puts on the wire)."""
    if isinstance(obj, dict):
        return {k: unseal_tree(key, v, context) for k, v in obj.items()}
    if isinstance(obj, list):
        return [unseal_tree(key, v, context) for v in obj]
    if is_sealed(obj):
        return json.loads(reveal(context, obj, key))
    return obj


def conceal(context: str, value: str | None, key: DataKey | None) -> str | None:
    """Seal a field under `key`; without a key (unit tests of logic) the value stays as is."""
    if key is None or value is None or is_sealed(value):
        return value
    return key.seal(str(value), context)


def reveal(context: str, value: Any, key: DataKey | None) -> Any:
    """Open a sealed field under `key` (clear values pass through); a sealed value without a key is an error."""
    if not is_sealed(value):
        return value
    if key is None:
        raise DecryptError("personal data is encrypted and no data key is loaded (privacy.data_key_file)")
    return key.open(value, context)


def patient_identity_key(id_number: str | None, social_insurance_number: str | None,
                         key: DataKey | None) -> str:
    """patients.identity_key: a keyed hash under the device key, or the clear form without one."""
    if key is not None:
        return key.identity_key(id_number, social_insurance_number)
    if id_number:
        return f"id:{id_number}"
    if social_insurance_number:
        return f"bhxh:{social_insurance_number}"
    raise ValueError("identity has neither an ID number nor a social-insurance number")


def identity_keys_for_id(id_number: str, key: DataKey | None) -> list[str]:
    """Every identity_key a person with this ID number may be stored under (sealed and pre-encryption rows)."""
    keys = [f"id:{id_number}"]
    if key is not None:
        keys.insert(0, key.identity_key(id_number, None))
    return keys


# --- the key file -------------------------------------------------------------------------------------------

def key_path(cfg: Config) -> Path:
    """Where this device's data key lives: `privacy.data_key_file`, or beside (never inside) the data directory."""
    configured = cfg.values.get("privacy.data_key_file", "")
    if configured:
        return Path(configured)
    d = cfg.data_dir.resolve()
    return d.parent / f"{d.name}.data-key"


def marker_path(cfg: Config) -> Path:
    return cfg.data_dir / WIPED_MARKER


def check_not_wiped(cfg: Config) -> None:
    m = marker_path(cfg)
    if m.exists():
        try:
            info = json.loads(m.read_text())
        except (OSError, ValueError):
            info = {}
        raise DeviceWiped(f"this kiosk was wiped ({info.get('at', 'time unknown')}, reason: "
                          f"{info.get('reason', 'unknown')}); it will not start until re-provisioned "
                          "(`kiosk datakey init --after-wipe`)")


def _kiosk_ids() -> tuple[int, int] | None:
    """(uid, gid) of the kiosk service user, when it exists."""
    try:
        pw = pwd.getpwnam(KEY_GROUP)
    except KeyError:
        return None
    return pw.pw_uid, pw.pw_gid


def create(path: Path, *, overwrite: bool = False) -> DataKey:
    """Provision a new key file, mode 0640.

    As root on a device (the `kiosk` user exists) the file, and a key directory this call creates, belong to
    the kiosk user: the processes that must read the key run as that user, and the sync process must be able
    to shred and unlink it when the hub orders a wipe (docs/security.md).
    """
    master = secrets.token_bytes(KEY_BYTES)
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if overwrite else os.O_EXCL)
    owner = _kiosk_ids() if os.geteuid() == 0 else None
    try:
        if not path.parent.exists():
            path.parent.mkdir(parents=True, mode=0o700)
            if owner:
                os.chown(path.parent, *owner)
        fd = os.open(path, flags, 0o640)
    except FileExistsError:
        if path.parent.is_dir():
            raise ConfigError(f"privacy.data_key_file: {path} already exists; refusing to replace a data key "
                              "(the data sealed under it would be lost)") from None
        raise UnavailableError(f"cannot create the data key {path}: {path.parent} is not a directory") from None
    except OSError as e:
        raise UnavailableError(f"cannot create the data key {path}: {e.strerror}") from None
    with os.fdopen(fd, "w") as f:
        f.write(master.hex() + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.chmod(path, 0o640)
    if owner:
        os.chown(path, *owner)
    return DataKey(master)


def write_restored(path: Path, master: bytes) -> None:
    """Put a key back from a backup (the file must not exist yet), mode 0640."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    with os.fdopen(fd, "w") as f:
        f.write(master.hex() + "\n")
        os.fsync(f.fileno())


def read(path: Path) -> DataKey:
    try:
        st = path.stat()
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise UnavailableError(f"the data key {path} is missing: this kiosk is not provisioned "
                               "(`kiosk datakey init`), or its key was destroyed") from None
    except (OSError, UnicodeDecodeError) as e:
        raise UnavailableError(f"cannot read the data key {path}: {getattr(e, 'strerror', None) or e}") from None
    if st.st_mode & (stat.S_IROTH | stat.S_IWOTH | stat.S_IWGRP):
        raise ConfigError(f"privacy.data_key_file: {path} has mode {stat.S_IMODE(st.st_mode):04o}; "
                          "it must not be readable by others (chmod 0640, owner and group kiosk)")
    try:
        master = bytes.fromhex(text)
    except ValueError:
        master = b""
    if len(master) != KEY_BYTES:
        raise ConfigError(f"privacy.data_key_file: {path} does not hold a 64-hex-digit key")
    return DataKey(master)


def load(cfg: Config, *, create_default: bool = True) -> DataKey:
    """The device key for this configuration; refuses on a wiped device.

    When `privacy.data_key_file` is empty (development, demo) a key is created
    beside the data directory on first use. A configured key file is never
    created implicitly: a missing production key means provisioning is needed
    or the key was destroyed, and a fresh key would orphan the data.
    """
    check_not_wiped(cfg)
    path = key_path(cfg)
    if not path.exists() and create_default and not cfg.values.get("privacy.data_key_file"):
        sealed_under = database_key_id(cfg.database)
        if sealed_under:
            # A fresh key would not open a single sealed value, and would be bound to nothing: refuse.
            raise UnavailableError(f"the data key {path} is missing, and the database {cfg.database} holds data "
                                   f"sealed under key {sealed_under}: put that key file back (or restore it from "
                                   "a backup); a new key cannot open that data, so none is created")
        key = create(path)
    else:
        key = read(path)
    return key


def database_key_id(database: Path | str) -> str | None:
    """The data key id a database was sealed under (meta privacy.key_id), read without writing; None if none."""
    return meta.key_id_of(Path(database))


def bind(db: Executor, key: DataKey) -> None:
    """Record the key id in the database, or refuse when the database was sealed under another key."""
    bound = meta.bind_key_id(db, key.key_id)
    if bound != key.key_id:
        raise UnavailableError(f"the data key (id {key.key_id}) is not the one this database was sealed with "
                               f"(id {bound}): wrong privacy.data_key_file, or a restored database without its key")


def shred(path: Path) -> bool:
    """Overwrite the key file with random bytes, sync, and unlink it. Returns whether there was one.

    Raises OSError when the file cannot be opened for writing (e.g. a root-owned key from an older
    provisioning, seen from the kiosk user): the key is then intact, and the caller must say so. Once the
    bytes are overwritten the key is gone, even if the unlink is refused.
    """
    try:
        size = max(path.stat().st_size, 4096)
    except FileNotFoundError:
        return False
    with open(path, "r+b") as f:
        for _ in range(2):
            f.seek(0)
            f.write(secrets.token_bytes(size))
            f.flush()
            os.fsync(f.fileno())
    try:
        path.unlink()
    except OSError:
        return True  # overwritten: unusable; the random bytes left do not parse as a key
    _fsync_dir(path.parent)
    return True


def _fsync_dir(d: Path) -> None:
    try:
        fd = os.open(d, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
