"""Restoring a backup onto a device: the database image and the data key it was sealed under, together.

The file format and the database half are kiosk.store.backup's; the key half
(the device key file, never replaced without `--replace`, the wipe marker
cleared) is here, beside the rest of the key's life cycle (kiosk.privacy.datakey).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kiosk.config import Config
from kiosk.errors import UsageError
from kiosk.privacy import datakey
from kiosk.store import backup as files


def restore(cfg: Config, path: Path, backup_key: bytes, *, replace: bool = False) -> dict[str, Any]:
    """Restore database and data key; refuses to overwrite an existing database unless `replace`."""
    header, master, image = files.read_backup(path, backup_key)
    db_path = cfg.database
    if db_path.exists() and not replace:
        raise UsageError(f"{db_path} exists; restoring would replace it (add --replace, after stopping the kiosk)")
    key_file = datakey.key_path(cfg)
    if key_file.exists():
        current = datakey.read(key_file)
        if current.master != master:
            if not replace:
                raise UsageError(f"{key_file} holds a different data key (id {current.key_id}); restoring needs "
                                 f"the backup's key (id {header['key_id']}) — add --replace to install it")
            datakey.shred(key_file)
    if not key_file.exists():
        datakey.write_restored(key_file, master)
    files.install_image(db_path, image)
    datakey.marker_path(cfg).unlink(missing_ok=True)
    return {"database": str(db_path), "key_file": str(key_file), "key_id": header["key_id"],
            "backup_created_at": header["created_at"], "db_bytes": header["db_bytes"]}
