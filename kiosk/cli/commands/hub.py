"""`kiosk hub serve|enrol|roster publish|stats`: the reference provincial hub (sync/hub.py)."""

from __future__ import annotations

import json
import signal
from pathlib import Path

from kiosk.cli import add_json
from kiosk.errors import UnavailableError, UsageError


def register(sub) -> None:
    h = sub.add_parser("hub", help="the reference provincial hub (for tests, demos and small deployments)")
    hs = h.add_subparsers(dest="hub_command", metavar="ACTION", required=True)

    s = hs.add_parser("serve", help="serve the upstream contract over HTTP, or HTTPS with --tls-cert")
    s.add_argument("--db", required=True, metavar="FILE", help="the hub's SQLite database (created if missing)")
    s.add_argument("--port", type=int, default=8443, help="TCP port; 0 picks a free one (default 8443)")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1, loopback)")
    s.add_argument("--tls-cert", metavar="FILE", help="PEM certificate (chain): serve HTTPS")
    s.add_argument("--tls-key", metavar="FILE", help="PEM private key for --tls-cert")
    s.add_argument("--client-ca", metavar="FILE", help="require client certificates issued by this CA")
    s.add_argument("--gateway-account", metavar="FILE",
                   help="JSON file with the facility's national-gateway account: enables the eligibility relay")
    s.add_argument("--fail-rate", type=float, default=0.0, metavar="R", help="fault injection: answer 503 at random "
                   "with probability R (0..1)")
    s.add_argument("--delay", type=float, default=0.0, metavar="S", help="fault injection: hold each request S seconds")
    s.add_argument("--drop-after-commit", type=float, nargs="?", const=0.5, default=0.0, metavar="P",
                   help="fault injection: after a write commits, cut the connection before answering, with "
                        "probability P (default 0.5 when given without a value)")
    s.add_argument("--seed", type=int, help="seed for the fault injection's random choices")
    s.set_defaults(func=serve)

    e = hs.add_parser("enrol", help="register a device and print its new token once (the hub keeps only a hash)")
    e.add_argument("--db", required=True, metavar="FILE")
    e.add_argument("--device", required=True, metavar="NAME")
    e.add_argument("--token-out", metavar="FILE", help="also write the token to FILE (mode 600)")
    add_json(e)
    e.set_defaults(func=enrol)

    rv = hs.add_parser("revoke", help="revoke a device's token (stolen or decommissioned kiosk); "
                                      "re-enrolling issues a new one")
    rv.add_argument("--db", required=True, metavar="FILE")
    rv.add_argument("--device", required=True, metavar="NAME")
    rv.add_argument("--reason", default="", help="recorded and shown to the kiosk (e.g. \"stolen 2026-11-26\")")
    rv.add_argument("--wipe", action="store_true",
                    help="also order the device wiped: if it reaches the hub again it crypto-shreds itself "
                         "(unsynced records included)")
    add_json(rv)
    rv.set_defaults(func=revoke)

    au = hs.add_parser("audit", help="check a device's audit-trail copies held by the hub; prints the anchors "
                                     "`kiosk audit verify --anchors` compares the kiosk against")
    au.add_argument("--db", required=True, metavar="FILE")
    au.add_argument("--device", required=True, metavar="NAME")
    add_json(au)
    au.set_defaults(func=audit_copies)

    r = hs.add_parser("roster", help="roster files served to kiosks")
    rs = r.add_subparsers(dest="roster_command", metavar="ACTION", required=True)
    p = rs.add_parser("publish", help="make a roster snapshot or delta (JSON Lines, optionally gzip) available")
    p.add_argument("--db", required=True, metavar="FILE")
    p.add_argument("roster_file", metavar="ROSTER_FILE")
    add_json(p)
    p.set_defaults(func=roster_publish)

    st = hs.add_parser("stats", help="how many visits and stay notifications the hub holds, and replays answered")
    st.add_argument("--db", required=True, metavar="FILE")
    add_json(st)
    st.set_defaults(func=stats)


def _check_rate(v: float, option: str) -> None:
    if not 0.0 <= v <= 1.0:
        raise UsageError(f"{option}: expected a probability from 0 to 1, got {v}")


def serve(ctx) -> int:
    from sync.hub import Faults, Hub
    a = ctx.args
    _check_rate(a.fail_rate, "--fail-rate")
    _check_rate(a.drop_after_commit, "--drop-after-commit")
    if a.delay < 0:
        raise UsageError("--delay: expected seconds >= 0")
    if bool(a.tls_cert) != bool(a.tls_key):
        raise UsageError("--tls-cert and --tls-key go together")
    if not 0 <= a.port <= 65535:
        raise UsageError("--port: expected 0..65535")
    account = None
    if a.gateway_account:
        try:
            account = json.loads(Path(a.gateway_account).read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise UsageError(f"--gateway-account: cannot read a JSON object from {a.gateway_account} ({e})") from None
        missing = [k for k in ("base_url", "username", "password", "staff_name", "staff_id_number")
                   if not isinstance(account, dict) or not str(account.get(k, "")).strip()]
        if missing:
            raise UsageError(f"--gateway-account: {a.gateway_account} lacks {', '.join(missing)}")
    try:
        hub = Hub(a.db, host=a.host, port=a.port, tls_cert=a.tls_cert, tls_key=a.tls_key, client_ca=a.client_ca,
                  faults=Faults(a.fail_rate, a.delay, a.drop_after_commit, a.seed), gateway_account=account)
    except OSError as e:
        raise UnavailableError(f"cannot listen on {a.host}:{a.port}: {e.strerror or e}") from None
    except Exception as e:  # ssl errors on a bad certificate or key
        raise UsageError(f"cannot start the hub: {e}") from None
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    print(f"hub listening on {hub.url} (db {a.db}"
          + (f", fail-rate {a.fail_rate}" if a.fail_rate else "") + (f", delay {a.delay}s" if a.delay else "")
          + (f", drop-after-commit {a.drop_after_commit}" if a.drop_after_commit else "") + ")", flush=True)
    try:
        hub.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        hub.httpd.server_close()
    return 0


def audit_copies(ctx) -> int:
    from kiosk import audit
    from sync.hub import HubStore
    hub = HubStore(ctx.args.db)
    result = audit.check_copies(hub.audit_copies(ctx.args.device))
    result["device"] = ctx.args.device
    result["highest_seq"] = hub.audit_highest_seq(ctx.args.device)  # what `audit verify --anchors` checks the end by
    ctx.emit(result, f"{ctx.args.device}: {result['entries']} audit entries held (up to {result['highest_seq']}), "
                     + ("chain consistent" if result["ok"] else f"BROKEN at entry {result['first_broken']}: "
                                                                f"{result['problem']}"))
    return 0 if result["ok"] else 1


def revoke(ctx) -> int:
    from sync.hub import BadRequest, HubStore
    try:
        info = HubStore(ctx.args.db).revoke(ctx.args.device, ctx.args.reason, wipe=ctx.args.wipe)
    except BadRequest as e:
        raise UsageError(str(e)) from None
    ctx.emit(info, f"device {info['device']} revoked at {info['revoked_at']}: {info['reason']}"
                   + (" (wipe ordered)" if info["wipe_ordered"] else ""))
    return 0


def enrol(ctx) -> int:
    import os
    from sync.hub import BadRequest, HubStore
    try:
        token = HubStore(ctx.args.db).enrol(ctx.args.device)
    except BadRequest as e:
        raise UsageError(str(e)) from None
    if ctx.args.token_out:
        fd = os.open(ctx.args.token_out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(token + "\n")
    ctx.emit({"device": ctx.args.device, "token": token},
             f"device {ctx.args.device} enrolled; its token (shown once, the hub keeps only a hash):\n{token}")
    return 0


def roster_publish(ctx) -> int:
    from sync.hub import BadRequest, HubStore
    src = Path(ctx.args.roster_file)
    if not src.is_file():
        raise UsageError(f"no such roster file: {src}")
    try:
        info = HubStore(ctx.args.db).publish_roster(src)
    except BadRequest as e:
        raise UsageError(str(e)) from None
    what = (f"snapshot version {info['version']}" if info["kind"] == "snapshot"
            else f"delta {info['since']} → {info['version']}")
    ctx.emit(info, f"published roster {what} as file {info['file_id']} ({info['size']} bytes)")
    return 0


def stats(ctx) -> int:
    from sync.hub import HubStore
    if not Path(ctx.args.db).exists():
        raise UsageError(f"no hub database at {ctx.args.db}")
    s = HubStore(ctx.args.db).stats()
    data = {"visits": s["visits"], "stay_notifications": s["stay_notifications"],
            "replays_answered": s["replays_answered"]}
    ctx.emit(data, f"visits {s['visits']}, stay notifications {s['stay_notifications']}, "
                   f"replays answered {s['replays_answered']}, devices {s['devices']}")
    return 0
