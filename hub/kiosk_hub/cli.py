"""kiosk-hub: the provincial hub's command (docs/hub.md; conventions of docs/cli.md).

Readable output by default, `--json` for machines; exit 0 done, 2 bad usage or input, 3 the database
(or another service the command needs) unavailable, 1 anything else. Errors are one line on stderr,
starting `error: `.
"""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
from pathlib import Path
from typing import Any, Callable


from kiosk_hub.errors import Unavailable, UsageError


def _emit(args, data: Any, text: str) -> None:
    if getattr(args, "json", False):
        print(json.dumps(data, ensure_ascii=False, default=str))
    else:
        print(text)


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kiosk_hub.settings")
    import django
    django.setup()


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
        import getpass
        return f"cli:{getpass.getuser()}"
    except Exception:
        return "cli:unknown"


# --- commands ---------------------------------------------------------------------------------------

def cmd_migrate(args) -> int:
    from django.core.management import call_command
    call_command("migrate", verbosity=0, interactive=False)
    from django.db import connection
    _emit(args, {"migrated": True, "engine": connection.vendor}, f"database migrated ({connection.vendor})")
    return 0


def cmd_enrol(args) -> int:
    from kiosk_hub.registry import services
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
    from kiosk_hub.registry import services
    info = services.revoke(args.name, args.reason or "", args.wipe, actor=_actor())
    _emit(args, info, f"device {info['name']} revoked at {info['revoked_at']}: {info['reason']}"
                      + (" — wipe ordered" if info["wipe_ordered"] else ""))
    return 0


def cmd_audit(args) -> int:
    from kiosk_hub.ingest.audit_copies import anchors_for
    from kiosk_hub.registry.models import Device
    dev = Device.objects.filter(name=args.name.strip()).first()
    if dev is None:
        raise UsageError(f"no device named {args.name!r}")
    result = anchors_for(dev)
    _emit(args, result, f"{dev.name}: {result['entries']} audit entries held (up to {result['highest_seq']}), "
                        + ("chain intact" if result["ok"] else f"BROKEN at {result['first_broken']}: {result['problem']}"))
    return 0 if result["ok"] else 1


def cmd_roster_publish(args) -> int:
    from kiosk_hub.ingest import roster
    from kiosk_hub.registry import actions
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
    from kiosk_hub.registry import services
    info = services.import_facilities(args.file, actor=_actor())
    _emit(args, info, f"{info['facilities']} facilities in {info['districts']} districts "
                      f"({info['created']} new, {info['updated']} updated)")
    return 0


def cmd_stats(args) -> int:
    from kiosk_hub.ingest.models import AuditEntry, Counter, StayNotification, Visit
    from kiosk_hub.registry.models import Device, Facility
    c = Counter.objects.filter(name="replays_answered").first()
    data = {"visits": Visit.objects.count(), "stay_notifications": StayNotification.objects.count(),
            "audit_entries": AuditEntry.objects.count(), "replays_answered": c.value if c else 0,
            "devices": Device.objects.count(), "devices_revoked": Device.objects.filter(revoked_at__isnull=False).count(),
            "facilities": Facility.objects.count()}
    _emit(args, data, "  ".join(f"{k} {v}" for k, v in data.items()))
    return 0


def cmd_createadmin(args) -> int:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError
    from django.db import transaction

    from kiosk_hub.accounts.models import DISTRICT_VIEWER, PROVINCE_ADMIN, STATION, Profile
    from kiosk_hub.registry import actions
    from kiosk_hub.registry.models import Facility
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
    from kiosk_hub.ingest import privacy
    from kiosk_hub.registry import actions
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
    import re

    from kiosk_hub.ingest import privacy
    from kiosk_hub.registry import actions
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
    from django.db import transaction

    from kiosk_hub.fhir import clients, push
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
    from django.db import transaction

    from kiosk_hub.fhir import clients, push
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
    from kiosk_hub.fhir import push
    from kiosk_hub.fhir.models import HisClient
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
    import signal
    import threading

    from django.conf import settings

    from kiosk_hub.fhir import push
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


def cmd_serve(args) -> int:
    from kiosk_hub import serve
    return serve.run(args)


# --- parser -----------------------------------------------------------------------------------------

def _json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON document")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="kiosk-hub", description="The provincial hub for the clinic ID kiosks.")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("migrate", help="apply the database migrations")
    _json(p)
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("serve", help="serve the device API and the dashboard with gunicorn")
    p.add_argument("--bind", default="127.0.0.1:8600", help="HOST:PORT (port 0 picks a free one)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--threads", type=int, default=8, help="threads per worker")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--client-ca", help="require client certificates signed by this CA")
    p.add_argument("--gateway-account", help="the national-gateway account file for the eligibility relay")
    p.add_argument("--no-migrate", action="store_true", help="do not apply migrations before serving")
    p.add_argument("--timeout", type=int, default=30, help="seconds a request may take before its worker is restarted")
    p.set_defaults(func=cmd_serve, setup_later=True)

    p = sub.add_parser("enrol", help="register a kiosk for a facility; prints its token once")
    p.add_argument("--facility", required=True, metavar="CODE")
    p.add_argument("--name", required=True)
    p.add_argument("--token-out", metavar="FILE", help="write the token to FILE (0600; refuses symlinks)")
    _json(p)
    p.set_defaults(func=cmd_enrol)

    p = sub.add_parser("revoke", help="revoke a kiosk's token (optionally ordering it wiped)")
    p.add_argument("--name", required=True)
    p.add_argument("--reason", default="")
    p.add_argument("--wipe", action="store_true")
    _json(p)
    p.set_defaults(func=cmd_revoke)

    p = sub.add_parser("audit", help="check a kiosk's audit copies; --json prints the anchors file")
    p.add_argument("--name", required=True)
    _json(p)
    p.set_defaults(func=cmd_audit)

    p = sub.add_parser("roster", help="roster files for the kiosks")
    rs = p.add_subparsers(dest="roster_command", metavar="ACTION", required=True)
    q = rs.add_parser("publish", help="offer a roster snapshot or delta to kiosks")
    q.add_argument("file")
    _json(q)
    q.set_defaults(func=cmd_roster_publish)

    p = sub.add_parser("facilities", help="the facility registry")
    fs = p.add_subparsers(dest="facilities_command", metavar="ACTION", required=True)
    q = fs.add_parser("import", help="insert or update facilities from a CSV")
    q.add_argument("file")
    _json(q)
    q.set_defaults(func=cmd_facilities_import)

    p = sub.add_parser("stats", help="what the hub holds")
    _json(p)
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("createadmin", help="create or update a dashboard account (non-interactive)")
    p.add_argument("--username", required=True)
    p.add_argument("--password-file", required=True)
    p.add_argument("--role", default="province_admin", choices=["province_admin", "district_viewer", "station"])
    p.add_argument("--district", metavar="CODE")
    p.add_argument("--facility", metavar="CODE")
    _json(p)
    p.set_defaults(func=cmd_createadmin)

    p = sub.add_parser("purge", help="purge personal fields of records past the retention period")
    p.add_argument("--days", type=int, help="retention in days (default KIOSK_HUB_RETENTION_DAYS)")
    p.add_argument("--dry-run", action="store_true")
    _json(p)
    p.set_defaults(func=cmd_purge)

    p = sub.add_parser("person", help="a data subject's rights")
    ps = p.add_subparsers(dest="person_command", metavar="ACTION", required=True)
    q = ps.add_parser("erase", help="erase what the hub holds about one ID number (what the law allows)")
    q.add_argument("--id-number", required=True)
    q.add_argument("--purpose", default="erasure request by the data subject (Luật 91/2025/QH15)")
    _json(q)
    q.set_defaults(func=cmd_person_erase)

    p = sub.add_parser("his", help="HIS clients of the FHIR interface (docs/fhir.md)")
    hs = p.add_subparsers(dest="his_command", metavar="ACTION", required=True)
    q = hs.add_parser("add", help="register a station's HIS; prints its bearer token once")
    q.add_argument("--facility", required=True, metavar="CODE[,CODE...]")
    q.add_argument("--name", required=True)
    q.add_argument("--push-url", metavar="URL", help="the HIS's FHIR base URL for pushes (https://)")
    q.add_argument("--push-token-file", metavar="FILE", help="the bearer token the hub sends with pushes")
    _json(q)
    q.set_defaults(func=cmd_his_add)
    q = hs.add_parser("revoke", help="revoke a HIS client's token and drop its pending pushes")
    q.add_argument("--name", required=True)
    _json(q)
    q.set_defaults(func=cmd_his_revoke)
    q = hs.add_parser("list", help="HIS clients, their facilities and push queues")
    _json(q)
    q.set_defaults(func=cmd_his_list)

    p = sub.add_parser("push", help="push check-ins to the HIS endpoints (FHIR transaction Bundles)")
    ps = p.add_subparsers(dest="push_command", metavar="ACTION", required=True)
    q = ps.add_parser("run", help="the pusher: work the queues until stopped (SIGTERM)")
    q.add_argument("--interval", type=float, default=0.5, help="seconds between looks at the queues")
    q.add_argument("--threads", type=int, default=8, help="endpoints worked at once")
    q.set_defaults(func=cmd_push)
    q = ps.add_parser("once", help="work every due queue once, then exit")
    _json(q)
    q.set_defaults(func=cmd_push)
    return ap


def main(argv: list[str] | None = None) -> int:
    ap = build_parser()
    try:
        args = ap.parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0) if e.code in (0, None) else 2
    if not getattr(args, "func", None):
        ap.print_help()
        return 2
    try:
        if not getattr(args, "setup_later", False):
            _setup()
        return args.func(args)
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except Unavailable as e:
        print(f"error: {e}", file=sys.stderr)
        return 3
    except Exception as e:  # noqa: BLE001 - classified below; never a traceback to the operator
        return _classify(e)


def _classify(e: Exception) -> int:
    from django.db import DatabaseError, OperationalError

    from kiosk_hub.registry.services import ServiceError
    if isinstance(e, ServiceError):
        print(f"error: {e}", file=sys.stderr)
        return 2
    if isinstance(e, OperationalError):
        print(f"error: the hub's database is unavailable ({type(e).__name__}: {str(e).splitlines()[0][:200]})",
              file=sys.stderr)
        return 3
    if isinstance(e, DatabaseError):
        print(f"error: database error ({type(e).__name__}); is the schema migrated? (kiosk-hub migrate)",
              file=sys.stderr)
        return 1
    if isinstance(e, PermissionError):
        print(f"error: permission denied: {e.filename}", file=sys.stderr)
        return 2
    print(f"error: unexpected {type(e).__name__} (see the hub's log)", file=sys.stderr)
    import logging
    logging.getLogger("kiosk_hub.cli").debug("event=cli_failed error=%s", type(e).__name__, exc_info=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
