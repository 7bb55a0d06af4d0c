"""`kiosk datakey init|status|encrypt-existing`: the device data key (provisioning)."""

from __future__ import annotations

import os
import stat

from kiosk.app import open_database
from kiosk.cli import add_json
from kiosk.errors import UnavailableError, UsageError
from kiosk.privacy import audit, datakey, encryption, wipe


def register(sub) -> None:
    d = sub.add_parser("datakey", help="the device data key that encrypts personal data at rest")
    dsub = d.add_subparsers(dest="datakey_command", metavar="ACTION", required=True)
    i = dsub.add_parser("init", help="create the data key (provisioning): owned by the kiosk user, 0600; refused "
                                       "on a database already sealed under a key")
    i.add_argument("--after-wipe", action="store_true", help="re-provision a wiped kiosk (clears the wipe marker)")
    add_json(i)
    i.set_defaults(func=init)
    s = dsub.add_parser("status", help="where the key is, its id, and how much personal data is still in clear")
    add_json(s)
    s.set_defaults(func=status)
    e = dsub.add_parser("encrypt-existing", help="seal identity fields written before encryption was switched on")
    add_json(e)
    e.set_defaults(func=encrypt_existing)


def init(ctx) -> int:
    cfg = ctx.config
    if datakey.marker_path(cfg).exists():
        if not ctx.args.after_wipe:
            datakey.check_not_wiped(cfg)
        if cfg.database.exists():
            raise UsageError(f"{cfg.database} exists after a wipe; remove it before re-provisioning")
    path = datakey.key_path(cfg)
    # Refuse before writing anything: a new key on a database already sealed under another would be a wrong
    # key left in place (and the data sealed under the old one lost if that file is later tidied away).
    sealed_under = None if path.exists() else datakey.database_key_id(cfg.database)  # exists: create() refuses
    if sealed_under:
        raise UsageError(f"{cfg.database} is already sealed under data key {sealed_under}; `datakey init` "
                         f"makes a key only for a new or not yet encrypted database (key file: {path}). "
                         "Check it with `kiosk datakey status`")
    key = datakey.create(path)
    wipe.reprovisioned(cfg)
    db = ctx.app.database()  # built now: loads the key just created and binds the database to it
    audit.record(db, actor=audit.default_actor(), action="key_created", record_kind="device", record_id=key.key_id,
                 purpose="provisioning")
    ctx.emit({"key_file": str(path), "key_id": key.key_id},
             f"data key {key.key_id} created at {path} (mode 0640); keep the data directory and this file apart")
    return 0


def status(ctx) -> int:
    cfg = ctx.config
    path = datakey.key_path(cfg)
    info = {"key_file": str(path), "exists": path.exists(), "wiped": datakey.marker_path(cfg).exists()}
    if path.exists():
        st = path.stat()
        info.update(mode=f"{stat.S_IMODE(st.st_mode):04o}", owner_uid=st.st_uid, group_gid=st.st_gid,
                    outside_data_dir=not str(path.resolve()).startswith(str(cfg.data_dir.resolve()) + os.sep))
        info["key_id"] = datakey.read(path).key_id
    info["database_key_id"] = datakey.database_key_id(cfg.database)
    if cfg.database.exists():  # counted without the key: this command reports on a key that may be wrong
        info["clear_rows"] = encryption.clear_counts(open_database(cfg))
    problem = None
    if info["database_key_id"] and not info["exists"]:
        problem = (f"the key file {path} is missing, and the database is sealed under key "
                   f"{info['database_key_id']}: put that key file back")
    elif info["database_key_id"] and info.get("key_id") != info["database_key_id"]:
        problem = (f"the key file {path} (id {info.get('key_id')}) is not the key the database was sealed "
                   f"with (id {info['database_key_id']}): wrong privacy.data_key_file, or a restored database "
                   "without its key")
    info["ok"] = problem is None
    ctx.emit(info, lambda: "\n".join(f"  {k}: {v}" for k, v in info.items()))
    if problem:
        # Exit 3, as every other command with this key refuses (datakey.bind): the device's key is unusable.
        raise UnavailableError(problem)
    return 0


def encrypt_existing(ctx) -> int:
    done = encryption.seal_existing(ctx.db(), ctx.app.data_key)
    ctx.emit(done, lambda: "sealed: " + ", ".join(f"{k} {v}" for k, v in done.items()))
    return 0
