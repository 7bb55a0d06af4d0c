"""The commands of `kiosk-hub` (parsed and dispatched by kiosk_hub.cli; docs/hub.md, docs/cli.md).

This module imports the hub's models at its top, so it can be imported only once Django is set up:
cli.main imports it after kiosk_hub.boot.setup(). Each command takes the parsed arguments and returns the
exit code; a refusal raises errors.UsageError (2) or errors.Unavailable (3), which cli.main reports.
"""

from __future__ import annotations

import getpass
import json
import os
import re
import signal
import stat
import sys
import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection, transaction

from kiosk_hub.accounts.models import DISTRICT_VIEWER, PROVINCE_ADMIN, STATION, Profile
from kiosk_hub.errors import Unavailable, UsageError
from kiosk_hub.fhir import clients, push
from kiosk_hub.fhir.models import HisClient
from kiosk_hub.ingest import privacy, roster
from kiosk_hub.ingest.audit_copies import anchors_for
from kiosk_hub.ingest.models import AuditEntry, Counter, StayNotification, Visit
from kiosk_hub.registry import actions, services
from kiosk_hub.registry.models import Device, Facility


def _emit(args, data: Any, text: str) -> None:
    if getattr(args, "json", False):
        print(json.dumps(data, ensure_ascii=False, default=str))
    else:
        print(text)


def _open_secret(path: str):
    """Open a token file for writing, 0600, before anything is enrolled; refuse a symlink (it could point
    anywhere root can write). Returns (file, created)."""
    p = Path(path)
    if p.is_symlink():
        raise UsageError(f"--token-out {path} is a symlink; refusing to write a token through it")
    existed = p.exists()
    try:
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as e:
        raise UsageError(f"cannot write {path}: {e.strerror}") from None
    f = os.fdopen(fd, "w")
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        f.close()
        raise UsageError(f"--token-out {path} is not a regular file")
    os.fchmod(fd, 0o600)
    return f, not existed


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:
        return "cli:unknown"


# --- commands ---------------------------------------------------------------------------------------

def cmd_migrate(args) -> int:
    call_command("migrate", verbosity=0, interactive=False)
    _emit(args, {"migrated": True, "engine": connection.vendor}, f"database migrated ({connection.vendor})")
    return 0


def cmd_enrol(args) -> int:
    out, created = _open_secret(args.token_out) if args.token_out else (None, False)
    try:
        dev, token = services.enrol(args.facility, args.name, actor=_actor())
    except BaseException:
        if out is not None:
            out.close()
            if created:
                Path(args.token_out).unlink(missing_ok=True)
        raise
    if out is not None:
        with out:
            out.truncate(0)
            out.write(token + "\n")
    data = {"name": dev.name, "facility": dev.facility_id, "token": token}
    where = f"token written to {args.token_out} (0600)" if args.token_out else f"token (shown once): {token}"
    _emit(args, data, f"enrolled {dev.name} for facility {dev.facility_id} {dev.facility.name}; {where}")
    return 0


def cmd_revoke(args) -> int:
    info = services.revoke(args.name, args.reason or "", args.wipe, actor=_actor())
    _emit(args, info, f"device {info['name']} revoked at {info['revoked_at']}: {info['reason']}"
                      + (" — wipe ordered" if info["wipe_ordered"] else ""))
    return 0


def cmd_audit(args) -> int:
    dev = Device.objects.filter(name=args.name.strip()).first()
    if dev is None:
        raise UsageError(f"no device named {args.name!r}")
    result = anchors_for(dev)
    _emit(args, result, f"{dev.name}: {result['entries']} audit entries held (up to {result['highest_seq']}), "
                        + ("chain intact" if result["ok"] else f"BROKEN at {result['first_broken']}: {result['problem']}"))
    return 0 if result["ok"] else 1


def cmd_roster_publish(args) -> int:
    try:
        info = roster.publish(Path(args.file))
    except roster.RosterError as e:
        raise UsageError(str(e)) from None
    actions.record(_actor(), "roster_publish", f"file {info['file_id']}", kind=info["kind"], version=info["version"],
                   sha256=info["sha256"])
    _emit(args, info, f"published roster {info['kind']} version {info['version']} as file {info['file_id']} "
                      f"({info['size']} bytes)")
    return 0


def cmd_facilities_import(args) -> int:
    info = services.import_facilities(args.file, actor=_actor())
    _emit(args, info, f"{info['facilities']} facilities in {info['districts']} districts "
                      f"({info['created']} new, {info['updated']} updated)")
    return 0


def cmd_stats(args) -> int:
    c = Counter.objects.filter(name="replays_answered").first()
    data = {"visits": Visit.objects.count(), "stay_notifications": StayNotification.objects.count(),
            "audit_entries": AuditEntry.objects.count(), "replays_answered": c.value if c else 0,
            "devices": Device.objects.count(), "devices_revoked": Device.objects.filter(revoked_at__isnull=False).count(),
            "facilities": Facility.objects.count()}
    _emit(args, data, "  ".join(f"{k} {v}" for k, v in data.items()))
    return 0


def cmd_createadmin(args) -> int:
    try:
        password = Path(args.password_file).read_text(encoding="utf-8").rstrip("\r\n")
    except OSError as e:
        raise UsageError(f"cannot read {args.password_file}: {e.strerror}") from None
    role = args.role
    if role == DISTRICT_VIEWER and not args.district:
        raise UsageError("--role district_viewer needs --district CODE")
    if role == STATION and not args.facility:
        raise UsageError("--role station needs --facility CODE")
    facility = None
    if args.facility:
        facility = Facility.objects.filter(code=args.facility).first()
        if facility is None:
            raise UsageError(f"no facility with code {args.facility!r}")
    if args.district and not Facility.objects.filter(district_code=args.district).exists():
        raise UsageError(f"no facility in district {args.district!r} (import the registry first)")
    User = get_user_model()
    user = User(username=args.username)
    try:
        validate_password(password, user)
    except ValidationError as e:
        raise UsageError("the password is too weak: " + " ".join(e.messages)) from None
    with transaction.atomic():
        user = User.objects.filter(username=args.username).first() or User(username=args.username)
        created = user.pk is None
        user.set_password(password)
        user.is_active = True
        user.is_staff = role == PROVINCE_ADMIN
        user.save()
        Profile.objects.update_or_create(user=user, defaults={
            "role": role, "district_code": args.district or (facility.district_code if facility else ""),
            "facility": facility})
        actions.record(_actor(), "account_create" if created else "account_update", args.username, role=role,
                       district=args.district or "", facility=args.facility or "")
    data = {"username": args.username, "role": role, "district": args.district, "facility": args.facility,
            "created": created}
    _emit(args, data, f"{'created' if created else 'updated'} {role} account {args.username}")
    return 0


def cmd_purge(args) -> int:
    if args.days is not None and args.days < 1:
        raise UsageError("--days must be at least 1")
    info = privacy.purge(args.days, dry_run=args.dry_run)
    if not args.dry_run:
        actions.record(_actor(), "retention_purge", "", **{k: info[k] for k in ("retention_days", "visits",
                                                                                 "stay_notifications")})
    _emit(args, info, f"{'would purge' if args.dry_run else 'purged'} personal fields of {info['visits']} visits "
                      f"and {info['stay_notifications']} stay notifications received before {info['cutoff']}")
    return 0


def cmd_person_erase(args) -> int:
    idn = (args.id_number or "").strip()
    if not re.fullmatch(r"[0-9]{9}|[0-9]{12}", idn, re.ASCII):
        raise UsageError("--id-number: expected 12 ASCII digits (or a 9-digit old ID)")
    info = privacy.erase_person(idn)
    actions.record(_actor(), "person_erase", info["masked_id"], purpose=args.purpose, erased=info["erased"],
                   kept=len(info["kept"]))
    lines = [f"erased for ID {info['masked_id']}: {info['erased']['visits']} visits, "
             f"{info['erased']['stay_notifications']} stay notifications"]
    lines += [f"  kept {k['record']}: {k['reason']}" for k in info["kept"]]
    _emit(args, info, "\n".join(lines))
    return 0


def cmd_his_add(args) -> int:
    codes = [c.strip() for c in args.facility.split(",") if c.strip()]
    token = ""
    if args.push_token_file and not args.push_url:
        raise UsageError("--push-token-file needs --push-url")
    try:
        url = push.check_url(args.push_url) if args.push_url else None
    except push.PushError as e:
        raise UsageError(str(e)) from None
    if args.push_token_file:
        try:
            token = Path(args.push_token_file).read_text(encoding="utf-8").strip()
        except OSError as e:
            raise UsageError(f"cannot read {args.push_token_file}: {e.strerror}") from None
        if not token or any(c.isspace() for c in token):
            raise UsageError(f"{args.push_token_file}: expected one token on one line")
    try:
        with transaction.atomic():
            client, secret = clients.add(args.name.strip(), codes, actor=_actor())
            if url:
                push.register(client, url, token)
    except clients.ClientError as e:
        raise UsageError(str(e)) from None
    data = {"name": client.name, "facilities": sorted(codes), "token": secret}
    if url:
        data["push_url"] = url
    _emit(args, data, f"HIS client {client.name} for {', '.join(sorted(codes))}"
                      + (f", pushing to {url}" if url else "") + f"; token (shown once): {secret}")
    return 0


def cmd_his_revoke(args) -> int:
    try:
        with transaction.atomic():
            client = clients.revoke(args.name.strip(), actor=_actor())
            dropped = push.forget(client)
    except clients.ClientError as e:
        raise UsageError(str(e)) from None
    data = {"name": client.name, "revoked_at": client.revoked_at, "pending_pushes_dropped": dropped}
    _emit(args, data, f"HIS client {client.name} revoked at {client.revoked_at:%Y-%m-%d %H:%M:%S}"
                      + (f"; {dropped} pending pushes dropped" if dropped else ""))
    return 0


def cmd_his_list(args) -> int:
    pushes = {r["name"]: r for r in push.status()}
    rows = []
    for c in HisClient.objects.prefetch_related("facilities").order_by("name"):
        p = pushes.get(c.name)
        rows.append({"name": c.name, "facilities": sorted(f.code for f in c.facilities.all()),
                     "created_at": c.created_at, "revoked_at": c.revoked_at,
                     "push": None if p is None else {k: p[k] for k in (
                         "url", "pending", "parked", "lag_seconds", "pushed", "failures", "last_ok_at",
                         "last_failure_at", "last_error")}})
    lines = [f"{r['name']}: {','.join(r['facilities'])}" + (" (revoked)" if r["revoked_at"] else "")
             + (f"; push {r['push']['url']}: {r['push']['pending']} pending ({r['push']['lag_seconds']} s behind),"
                f" {r['push']['parked']} parked, {r['push']['pushed']} pushed" if r["push"] else "")
             for r in rows]
    _emit(args, rows, "\n".join(lines) or "no HIS clients")
    return 0


def cmd_push(args) -> int:
    try:
        lock = push.single_pusher(Path(settings.DATA_DIR))
    except push.Locked as e:
        raise Unavailable(str(e)) from None
    with lock:
        if args.push_command == "once":
            info = push.push_once()
            _emit(args, info, f"{info['pushed']} bundles pushed to {info['endpoints']} endpoints, "
                              f"{info['failed']} failed (retried later), {info['parked']} parked")
            return 0
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        print("pusher running", file=sys.stderr, flush=True)
        push.run(stop, interval=args.interval, threads=args.threads)
        return 0
