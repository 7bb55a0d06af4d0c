"""`kiosk sync run|once|status|heartbeat`: the outbox sender (sync/sender.py), in its own process."""

from __future__ import annotations

import fcntl
import os
import signal
import threading
from types import SimpleNamespace

from kiosk.cli import add_json, ascii_float, ascii_int
from kiosk.errors import KioskError, UnavailableError, UsageError
from kiosk.privacy import wipe
from sync.client import DeviceWipeOrdered, HubClient, HubUnavailable
from sync.heartbeat import TIMEOUT, Heartbeat, HeartbeatRefused, build, send
from sync.sender import Sender, Settings
from sync.sender import status as sync_status


def register(sub) -> None:
    s = sub.add_parser("sync", help="send the outbox (visits, stay notifications) to the hub")
    ss = s.add_subparsers(dest="sync_command", metavar="ACTION", required=True)
    for name, helptext in (("run", "send forever: backoff with jitter, circuit breaker when the hub is down"),
                           ("once", "one pass; exit 0 when the outbox is empty afterwards, 3 when records remain")):
        p = ss.add_parser(name, help=helptext)
        p.add_argument("--hub", metavar="URL", help="hub URL (default upstream.url)")
        p.add_argument("--token-file", metavar="FILE", help="device token file (default upstream.token_file)")
        p.add_argument("--batch", type=ascii_int, default=100, metavar="N", help="records per request (default 100)")
        p.add_argument("--backoff-max", type=ascii_float, metavar="S",
                       help="longest wait between retries, seconds (default upstream.backoff_max_seconds, 5)")
        p.add_argument("--breaker-cooldown", type=ascii_float, metavar="S",
                       help="how long the circuit stays open when the hub is down before one health probe "
                            "(default upstream.breaker_cooldown_seconds, 5)")
        add_json(p)
        p.set_defaults(func=run if name == "run" else once)
    st = ss.add_parser("status", help="queued records, oldest age, last success, last error")
    add_json(st)
    st.set_defaults(func=status)
    hb = ss.add_parser("heartbeat", help="send this kiosk's heartbeat to the hub now and print it (no personal data)")
    hb.add_argument("--hub", metavar="URL", help="hub URL (default upstream.url)")
    hb.add_argument("--token-file", metavar="FILE", help="device token file (default upstream.token_file)")
    add_json(hb)
    hb.set_defaults(func=heartbeat)


def _sender(ctx) -> Sender:
    a = ctx.args
    if not 1 <= a.batch <= 500:
        raise UsageError("--batch: expected 1..500")
    client = HubClient.from_config(ctx.config, a.hub, a.token_file)
    backoff_max = a.backoff_max if a.backoff_max is not None else ctx.config["upstream.backoff_max_seconds"]
    cooldown = a.breaker_cooldown if a.breaker_cooldown is not None else ctx.config["upstream.breaker_cooldown_seconds"]
    if not (backoff_max > 0 and cooldown > 0):
        raise UsageError("--backoff-max and --breaker-cooldown: expected a positive number of seconds")
    settings = Settings(batch_size=a.batch, backoff_max=backoff_max, breaker_cooldown=cooldown,
                        backoff_base=min(0.5, backoff_max))
    db = ctx.db()
    beat = Heartbeat(db, client, data_dir=ctx.config.data_dir, interval=ctx.config["upstream.heartbeat_seconds"])
    return Sender(db, client, settings=settings, heartbeat=beat)


def _lock(ctx):
    """One sender per kiosk: an flock the kernel releases even on SIGKILL."""
    path = ctx.config.data_dir / "sync.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise UnavailableError("another `kiosk sync` is already running for this data directory") from None
    return fd


def _obey_wipe_order(ctx, sender, e) -> None:
    """A stolen-device order from the hub (issue 10): crypto-shred this kiosk, then say so."""
    sender.db.conn.close()
    info = wipe.wipe(ctx.config, reason=f"hub order: {e}", actor="hub")
    if info["key_error"]:
        raise KioskError(f"{e}: {info['files_destroyed']} files destroyed, but the data key {info['key_file']} "
                         f"could not be shredded ({info['key_error']}): it is laid out for an older release; "
                         "run `kiosk wipe --yes-destroy-all-data --force` as root to finish")
    raise UnavailableError(f"{e}: done — data key shredded, {info['files_destroyed']} files destroyed; "
                           "the kiosk will not start until re-provisioned")


def once(ctx) -> int:
    fd = _lock(ctx)
    try:
        sender = _sender(ctx)
        try:
            r = sender.once()
            if r.acknowledged or r.rejected:  # a pass that delivered something: the hub's fleet page follows
                sender.heartbeat.beat()
        except DeviceWipeOrdered as e:
            _obey_wipe_order(ctx, sender, e)
        left = sender.remaining()
    finally:
        os.close(fd)
    data = {"acknowledged": r.acknowledged, "replayed": r.replayed, "rejected": r.rejected,
            "deferred": r.deferred, "requests": r.requests, "remaining": left, "error": r.error}
    ctx.emit(data, f"sent: {r.acknowledged} acknowledged ({r.replayed} were replays), {r.rejected} need manual "
                   f"submission, {left} remaining" + (f"; last error: {r.error}" if r.error else ""))
    return 0 if left == 0 else 3


def run(ctx) -> int:
    fd = _lock(ctx)
    sender = _sender(ctx)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    print(f"sync: sending to {sender.client.url}", flush=True)
    try:
        sender.run(stop)
    except DeviceWipeOrdered as e:
        _obey_wipe_order(ctx, sender, e)
    finally:
        os.close(fd)
    return 0


def status(ctx) -> int:
    s = sync_status(ctx.db(), ctx.app.clock.now())

    def human() -> str:
        age = "-" if s["oldest_age_seconds"] is None else f"{s['oldest_age_seconds']} s"
        return (f"queued {s['queued']} (in flight {s['in_flight']}), oldest {age}, "
                f"needs manual {s['needs_manual']}, acknowledged {s['acknowledged']}\n"
                f"last success: {s['last_success'] or 'never'}\n"
                f"last error: {s['last_error'] or '-'}" + (f" ({s['last_error_at']})" if s['last_error_at'] else ""))
    ctx.emit(s, human)
    return 0


def heartbeat(ctx) -> int:
    """Build one heartbeat, send it, print it: 0 taken, 3 hub unreachable, 1 refused by the hub."""
    a = ctx.args
    client = HubClient.from_config(ctx.config, a.hub, a.token_file)
    db = ctx.db()
    body = build(db, now=ctx.app.clock.now(), data_dir=ctx.config.data_dir)
    error, code, answer = None, 0, None
    try:
        answer = send(client, body, TIMEOUT)
    except DeviceWipeOrdered as e:
        _obey_wipe_order(ctx, SimpleNamespace(db=db), e)
    except HubUnavailable as e:
        error, code = str(e), 3
    except HeartbeatRefused as e:
        error, code = str(e), 1
    data = {"sent": code == 0, "hub": client.url, "heartbeat": body, "answer": answer, "error": error}

    def human() -> str:
        o, v = body["outbox"], body["visits_today"]
        clock = {True: "synchronised", False: "NOT synchronised", None: "unknown"}[body["clock_synced"]]
        lines = [
            (f"heartbeat sent to {client.url}" if code == 0 else f"heartbeat NOT sent to {client.url}: {error}"),
            f"app {body['app_version']}, roster version {body['roster_version'] if body['roster_version'] is not None else '-'}"
            f" (as of {body['roster_as_of'] or '-'})",
            "outbox: " + ", ".join(f"{k} {n}" for k, n in o.items())
            + f"; oldest unsent {body['oldest_unsent_at'] or '-'}",
            f"clock {clock}; disk free {body['disk_free_mb'] if body['disk_free_mb'] is not None else '-'} MB",
            "devices: " + ", ".join(f"{k} {s}" for k, s in body["devices"].items()),
            "visits today: " + ", ".join(f"{k} {n}" for k, n in v.items()),
            f"open stays {body['open_stays']}, earliest deadline {body['earliest_stay_deadline'] or '-'}",
        ]
        return "\n".join(lines)
    ctx.emit(data, human)
    return code
