"""kiosk-hub: the provincial hub's command (docs/hub.md; conventions of docs/cli.md).

Readable output by default, `--json` for machines; exit 0 done, 2 bad usage or input, 3 the database
(or another service the command needs) unavailable, 1 anything else. Errors are one line on stderr,
starting `error: `.

This module parses and dispatches, with no model imported: `serve` runs kiosk_hub.serve (which checks its
options before Django is set up), every other command a function of kiosk_hub.commands, imported once
kiosk_hub.boot has set Django up. Numeric options take ASCII digits only (kiosk_hub.argtypes).
"""

from __future__ import annotations

import argparse
import logging
import sys

from django.db import DatabaseError, OperationalError

from kiosk_hub.argtypes import ascii_float, ascii_int
from kiosk_hub.boot import setup
from kiosk_hub.errors import ServiceError, Unavailable, UsageError


# --- parser -----------------------------------------------------------------------------------------

def _json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON document")


def build_parser() -> argparse.ArgumentParser:
    """The command line. `func` names the command's function in kiosk_hub.commands, or is "serve"."""
    ap = argparse.ArgumentParser(prog="kiosk-hub", description="The provincial hub for the clinic ID kiosks.")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("migrate", help="apply the database migrations")
    _json(p)
    p.set_defaults(func="cmd_migrate")

    p = sub.add_parser("serve", help="serve the device API and the dashboard with gunicorn")
    p.add_argument("--bind", default="127.0.0.1:8600", help="HOST:PORT (port 0 picks a free one)")
    p.add_argument("--workers", type=ascii_int, default=2)
    p.add_argument("--threads", type=ascii_int, default=8, help="threads per worker")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--client-ca", help="require client certificates signed by this CA")
    p.add_argument("--gateway-account", help="the national-gateway account file for the eligibility relay")
    p.add_argument("--no-migrate", action="store_true", help="do not apply migrations before serving")
    p.add_argument("--timeout", type=ascii_int, default=30, help="seconds a request may take before its worker is restarted")
    p.set_defaults(func="serve")

    p = sub.add_parser("enrol", help="register a kiosk for a facility; prints its token once")
    p.add_argument("--facility", required=True, metavar="CODE")
    p.add_argument("--name", required=True)
    p.add_argument("--token-out", metavar="FILE", help="write the token to FILE (0600; refuses symlinks)")
    _json(p)
    p.set_defaults(func="cmd_enrol")

    p = sub.add_parser("revoke", help="revoke a kiosk's token (optionally ordering it wiped)")
    p.add_argument("--name", required=True)
    p.add_argument("--reason", default="")
    p.add_argument("--wipe", action="store_true")
    _json(p)
    p.set_defaults(func="cmd_revoke")

    p = sub.add_parser("audit", help="check a kiosk's audit copies; --json prints the anchors file")
    p.add_argument("--name", required=True)
    _json(p)
    p.set_defaults(func="cmd_audit")

    p = sub.add_parser("roster", help="roster files for the kiosks")
    rs = p.add_subparsers(dest="roster_command", metavar="ACTION", required=True)
    q = rs.add_parser("publish", help="offer a roster snapshot or delta to kiosks")
    q.add_argument("file")
    _json(q)
    q.set_defaults(func="cmd_roster_publish")

    p = sub.add_parser("facilities", help="the facility registry")
    fs = p.add_subparsers(dest="facilities_command", metavar="ACTION", required=True)
    q = fs.add_parser("import", help="insert or update facilities from a CSV")
    q.add_argument("file")
    _json(q)
    q.set_defaults(func="cmd_facilities_import")

    p = sub.add_parser("stats", help="what the hub holds")
    _json(p)
    p.set_defaults(func="cmd_stats")

    p = sub.add_parser("createadmin", help="create or update a dashboard account (non-interactive)")
    p.add_argument("--username", required=True)
    p.add_argument("--password-file", required=True)
    p.add_argument("--role", default="province_admin", choices=["province_admin", "district_viewer", "station"])
    p.add_argument("--district", metavar="CODE")
    p.add_argument("--facility", metavar="CODE")
    _json(p)
    p.set_defaults(func="cmd_createadmin")

    p = sub.add_parser("purge", help="purge personal fields of records past the retention period")
    p.add_argument("--days", type=ascii_int, help="retention in days (default KIOSK_HUB_RETENTION_DAYS)")
    p.add_argument("--dry-run", action="store_true")
    _json(p)
    p.set_defaults(func="cmd_purge")

    p = sub.add_parser("person", help="a data subject's rights")
    ps = p.add_subparsers(dest="person_command", metavar="ACTION", required=True)
    q = ps.add_parser("erase", help="erase what the hub holds about one ID number (what the law allows)")
    q.add_argument("--id-number", required=True)
    q.add_argument("--purpose", default="erasure request by the data subject (Luật 91/2025/QH15)")
    _json(q)
    q.set_defaults(func="cmd_person_erase")

    p = sub.add_parser("his", help="HIS clients of the FHIR interface (docs/fhir.md)")
    hs = p.add_subparsers(dest="his_command", metavar="ACTION", required=True)
    q = hs.add_parser("add", help="register a station's HIS; prints its bearer token once")
    q.add_argument("--facility", required=True, metavar="CODE[,CODE...]")
    q.add_argument("--name", required=True)
    q.add_argument("--push-url", metavar="URL", help="the HIS's FHIR base URL for pushes (https://)")
    q.add_argument("--push-token-file", metavar="FILE", help="the bearer token the hub sends with pushes")
    _json(q)
    q.set_defaults(func="cmd_his_add")
    q = hs.add_parser("revoke", help="revoke a HIS client's token and drop its pending pushes")
    q.add_argument("--name", required=True)
    _json(q)
    q.set_defaults(func="cmd_his_revoke")
    q = hs.add_parser("list", help="HIS clients, their facilities and push queues")
    _json(q)
    q.set_defaults(func="cmd_his_list")

    p = sub.add_parser("push", help="push check-ins to the HIS endpoints (FHIR transaction Bundles)")
    ps = p.add_subparsers(dest="push_command", metavar="ACTION", required=True)
    q = ps.add_parser("run", help="the pusher: work the queues until stopped (SIGTERM)")
    q.add_argument("--interval", type=ascii_float, default=0.5, help="seconds between looks at the queues")
    q.add_argument("--threads", type=ascii_int, default=8, help="endpoints worked at once")
    q.set_defaults(func="cmd_push")
    q = ps.add_parser("once", help="work every due queue once, then exit")
    _json(q)
    q.set_defaults(func="cmd_push")
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
        if args.func == "serve":
            # Deferred: serve loads gunicorn and the gateway client (about 0.1 s) that no other command needs.
            from kiosk_hub import serve
            return serve.run(args)   # checks its options, then sets Django up itself
        setup()
        # Deferred: commands imports the models, which Django allows only after setup() (app loading).
        from kiosk_hub import commands
        return getattr(commands, args.func)(args)
    except UsageError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except Unavailable as e:
        print(f"error: {e}", file=sys.stderr)
        return 3
    except Exception as e:  # noqa: BLE001 - classified below; never a traceback to the operator
        return _classify(e)


def _classify(e: Exception) -> int:
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
    logging.getLogger("kiosk_hub.cli").debug("event=cli_failed error=%s", type(e).__name__, exc_info=True)
    return 1


if __name__ == "__main__":
    sys.exit(main())
