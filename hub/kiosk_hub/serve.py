"""`kiosk-hub serve`: gunicorn with the hardened gthread worker (kiosk_hub.worker) on a socket bound here.

Binding here lets port 0 pick a free port and the first stdout line say where: `hub listening on URL`.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import ssl
from pathlib import Path

from django.core.management import call_command
from django.db import connections
from gunicorn.app.base import BaseApplication

from kiosk_hub.boot import setup
from kiosk_hub.errors import Unavailable, UsageError
from kiosk_hub.ingest.gateway import AccountError, load_account


def _bind(spec: str) -> tuple[str, int]:
    host, sep, port = spec.rpartition(":")
    if not sep or not port.isascii() or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"--bind: expected HOST:PORT, got {spec!r}")
    return host.strip("[]") or "127.0.0.1", int(port)


def run(args) -> int:
    try:
        host, port = _bind(args.bind)
    except ValueError as e:
        raise UsageError(str(e)) from None
    for flag, path in (("--tls-cert", args.tls_cert), ("--tls-key", args.tls_key), ("--client-ca", args.client_ca),
                       ("--gateway-account", args.gateway_account)):
        if path and not Path(path).is_file():
            raise UsageError(f"{flag}: no such file {path}")
    if bool(args.tls_cert) != bool(args.tls_key):
        raise UsageError("--tls-cert and --tls-key go together")
    if args.client_ca and not args.tls_cert:
        raise UsageError("--client-ca needs --tls-cert and --tls-key")
    if args.workers < 1 or args.threads < 1:
        raise UsageError("--workers and --threads must be at least 1")
    if args.gateway_account:
        os.environ["KIOSK_HUB_GATEWAY_ACCOUNT"] = str(Path(args.gateway_account).resolve())
    setup()
    if args.gateway_account:
        try:
            load_account(args.gateway_account)
        except AccountError as e:
            raise UsageError(str(e)) from None
    if not args.no_migrate:
        call_command("migrate", verbosity=0, interactive=False)
    connections.close_all()  # nothing of the master's database connections crosses the fork

    try:
        family = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    except ValueError:
        family = socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        raise Unavailable(f"cannot bind {host}:{port}: {e.strerror}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    bound_port = sock.getsockname()[1]
    scheme = "https" if args.tls_cert else "http"
    shown = f"[{host}]" if family == socket.AF_INET6 else host

    options = {
        "bind": [f"fd://{sock.fileno()}"],
        "workers": args.workers,
        "worker_class": "kiosk_hub.worker.HubWorker",
        "threads": args.threads,
        "worker_connections": 1000,
        "timeout": args.timeout,
        "graceful_timeout": 10,
        "keepalive": 5,
        "limit_request_line": 8190,
        "limit_request_fields": 64,
        "limit_request_field_size": 8190,
        "accesslog": None,
        "errorlog": "-",
        "loglevel": os.environ.get("KIOSK_HUB_LOG_LEVEL", "warning").lower(),
        "proc_name": "kiosk-hub",
        "preload_app": False,
        "forwarded_allow_ips": os.environ.get("KIOSK_HUB_FORWARDED_ALLOW_IPS", "127.0.0.1,::1"),
    }
    if args.tls_cert:
        options.update({"certfile": args.tls_cert, "keyfile": args.tls_key})
        if args.client_ca:
            options.update({"ca_certs": args.client_ca, "cert_reqs": ssl.CERT_REQUIRED})

    print(f"hub listening on {scheme}://{shown}:{bound_port}", flush=True)
    _Gunicorn(options).run()
    return 0


class _Gunicorn(BaseApplication):
    def __init__(self, options: dict) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for k, v in self.options.items():
            self.cfg.set(k, v)

    def load(self):
        # Imported here, in each worker after the fork (preload_app is off): importing kiosk_hub.wsgi sets
        # Django up, and nothing of it is to cross the fork.
        from kiosk_hub.wsgi import application
        return application
