"""`kiosk backup` / `kiosk restore`: encrypted copies of the database on removable media."""

from __future__ import annotations

from pathlib import Path

from kiosk.app import build, open_database
from kiosk.cli import add_json
from kiosk.cli.commands.person import add_admin_options, authorize_admin
from kiosk.clock import SystemClock, iso_utc
from kiosk.errors import UsageError
from kiosk.privacy import audit
from kiosk.privacy.backup import restore as restore_backup
from kiosk.store import backup as bk
from kiosk.store import outbox


def register(sub) -> None:
    b = sub.add_parser("backup", help="write an encrypted backup of the database (the backup key is kept apart)")
    b.add_argument("--to", required=True, metavar="PATH", help="backup file, or a directory (e.g. a mounted USB stick)")
    b.add_argument("--key-file", required=True, metavar="FILE",
                   help="the backup key (64 hex digits); keep it apart from the media")
    b.add_argument("--new-key", action="store_true", help="create --key-file first (refuses to overwrite)")
    add_admin_options(b)
    add_json(b)
    b.set_defaults(func=backup)

    r = sub.add_parser("restore", help="restore the database and its data key from an encrypted backup")
    r.add_argument("--from", dest="source", required=True, metavar="FILE", help="the backup file")
    r.add_argument("--key-file", required=True, metavar="FILE", help="the backup key it was written with")
    r.add_argument("--replace", action="store_true",
                   help="replace an existing database (stop the kiosk first); refused if it holds unsynced records")
    add_admin_options(r)
    add_json(r)
    r.set_defaults(func=restore)


def backup(ctx) -> int:
    now = ctx.app.clock.now()
    key = ctx.app.data_key
    db = ctx.db()
    actor = authorize_admin(ctx, db)
    key_file = Path(ctx.args.key_file)
    backup_key = bk.create_backup_key(key_file) if ctx.args.new_key else bk.read_backup_key(key_file)
    out = Path(ctx.args.to)
    if out.is_dir():
        out = out / f"kiosk-backup-{iso_utc(now).replace(':', '')}.tkb"
    # The entry goes in first so the backup itself shows it was taken, and by whom.
    audit.record(db, actor=actor, action="backed_up", record_kind="database", record_id="all",
                 purpose="encrypted backup to removable media", details={"file": out.name}, now=now)
    info = bk.write_backup(db.conn, key, backup_key, out, now)
    ctx.emit(info, f"backup written: {info['path']} ({info['bytes']} bytes, encrypted; key {key_file} — keep it "
                   "apart from the media)")
    return 0


def restore(ctx) -> int:
    # The wall clock, not the App's: the data key build() loads may be missing, which is why one restores.
    now = SystemClock().now()
    backup_key = bk.read_backup_key(Path(ctx.args.key_file))
    db_path = ctx.config.database
    actor = "os:root"
    if db_path.exists():
        # An administrator's account opens under the data key; root needs none (it may be the lost part).
        db = ctx.db() if ctx.args.staff is not None else open_database(ctx.config)
        actor = authorize_admin(ctx, db)
        pending = outbox.pending_count(db)
        db.close()
        if pending and ctx.args.replace:
            raise UsageError(f"the current database holds {pending} records not yet delivered to the hub; "
                             "restoring over it would lose them (sync first, or back it up and move it away)")
    else:  # nothing to check a staff PIN against yet: root only
        ctx.args.staff = None
        authorize_admin(ctx, None)
    info = restore_backup(ctx.config, Path(ctx.args.source), backup_key, replace=ctx.args.replace)
    db = build(ctx.config, "none").database()  # the restored database under the key restored with it
    audit.record(db, actor=actor, action="restored", record_kind="database", record_id="all",
                 purpose="restore from encrypted backup", details={"backup_created_at": info["backup_created_at"]},
                 now=now)
    ctx.emit(info, f"restored {info['database']} from a backup of {info['backup_created_at']} "
                   f"(data key {info['key_id']} installed at {info['key_file']})")
    return 0
