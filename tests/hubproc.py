"""The kiosk's tests against the real hub: `kiosk-hub serve` (gunicorn + Django, hub/) on SQLite, on loopback.

Starting gunicorn and Django takes seconds, so the kiosk tests share one hub per session (`kiosk_hub_server`)
and each test gets its own device on it (`kiosk-hub enrol`): devices never see each other's records, and every
count a test checks is per device (`KioskHub.stats`). Tests that change what every device sees (roster files,
the gateway account, TLS) start their own hub with `start_hub`.

The hub's database is a copy of one migrated template with the seed registry (made once per process), so a
new hub costs a file copy, not `migrate`.
"""

from __future__ import annotations

import atexit
import itertools
import json
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.hub.conftest import FACILITY, HUB_CMD, ROOT, SEED, HubEnv, LiveHub, _readline

# The kiosk's configured facility when a test sets none (kiosk/config.py `facility.code`): the `kiosk` CLI
# tests (`kiosk_env`) check in for it, so the test hubs' registry holds it beside the seed province.
KIOSK_DEFAULT_FACILITY = "40999"
_EXTRA_FACILITIES = ("code,name,district_code,district_name,province_code,province_name\n"
                     "40999,Trạm Y tế thử nghiệm (kiosk mặc định),429,Huyện Nghi Lộc,40,Nghệ An\n")
_names = itertools.count(1)
_template: list[Path] = []


def template_db() -> Path:
    """A migrated SQLite hub database holding the seed facilities; made once per test process."""
    if not _template:
        d = Path(tempfile.mkdtemp(prefix="kiosk-hub-template-"))
        atexit.register(shutil.rmtree, d, True)
        (d / "data").mkdir(mode=0o700)
        env = HubEnv("sqlite", d / "data", f"sqlite:///{d / 'data' / 'hub.db'}")
        (d / "extra.csv").write_text(_EXTRA_FACILITIES, encoding="utf-8")
        for args in (("migrate",), ("facilities", "import", str(SEED)), ("facilities", "import", str(d / "extra.csv"))):
            r = env.cli(*args)
            assert r.returncode == 0, r.stderr
        import sqlite3
        c = sqlite3.connect(d / "data" / "hub.db")
        c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        c.close()
        _template.append(d / "data" / "hub.db")
    return _template[0]


def new_env(base: Path) -> HubEnv:
    """A fresh hub data directory with its own SQLite database (a copy of the template)."""
    data = base / "data"
    data.mkdir(parents=True, mode=0o700)
    shutil.copyfile(template_db(), data / "hub.db")
    (data / "hub.db").chmod(0o600)
    return HubEnv("sqlite", data, f"sqlite:///{data / 'hub.db'}")


def serve(env: HubEnv, *extra: str, workers: int = 1, port: int = 0, ready_timeout: float = 90,
          cert: str | None = None) -> LiveHub:
    """`kiosk-hub serve --bind 127.0.0.1:PORT` on a migrated database; returns once a worker answers /readyz."""
    err = env.data_dir.parent / f"hub-stderr-{next(_names)}.log"
    with open(err, "wb") as ef:
        proc = subprocess.Popen([*HUB_CMD, "serve", "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
                                 "--no-migrate", *extra], stdout=subprocess.PIPE, stderr=ef, text=True, env=env.env, cwd=ROOT)
    line = _readline(proc, ready_timeout)
    if not line.startswith("hub listening on "):
        proc.kill()
        proc.wait()
        raise RuntimeError(f"hub did not start: {line!r} {err.read_text()[-3000:]}")
    live = LiveHub(env, proc, line.split("hub listening on ", 1)[1].strip(), err)
    deadline = time.monotonic() + ready_timeout
    while True:  # the socket listens before the workers boot: wait until one answers
        try:
            if requests.get(live.url + "/readyz", timeout=5, verify=False, cert=cert).status_code == 200:
                return live
        except requests.RequestException:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            live.stop()
            raise RuntimeError(f"hub never became ready: {err.read_text()[-3000:]}")
        time.sleep(0.1)


def _counter(env: HubEnv, name: str) -> int:
    rows = env.query("SELECT value FROM ingest_counter WHERE name = %s", (name,))
    return rows[0][0] if rows else 0


@dataclass
class KioskHub:
    """One device enrolled on a live hub: what a kiosk holds (url, token, token file) and what the tests read
    back from the hub about that device."""
    env: HubEnv
    live: LiveHub
    name: str
    token: str
    token_file: Path
    facility: str = FACILITY
    owns_server: bool = False
    _replays0: int = field(default=0, repr=False)

    @property
    def url(self) -> str:
        return self.live.url

    @property
    def proc(self) -> subprocess.Popen:
        return self.live.proc

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return self.env.cli(*args, timeout=timeout)

    def query(self, sql: str, args: tuple = ()) -> list[tuple]:
        return self.env.query(sql, args)

    def device_id(self) -> int:
        return self.query("SELECT id FROM registry_device WHERE name = %s", (self.name,))[0][0]

    def records(self, kind: str = "visit") -> list[dict]:
        """The payloads the hub holds from this device (`visit`, `staynotification` or `auditentry`)."""
        rows = self.query(f"SELECT r.payload FROM ingest_{kind} r JOIN registry_device d ON d.id = r.device_id "
                          "WHERE d.name = %s ORDER BY r.id", (self.name,))
        return [json.loads(p) if isinstance(p, str) else p for (p,) in rows]

    def record_ids(self, kind: str = "visit") -> list[int]:
        return [r for (r,) in self.query(f"SELECT r.record_id FROM ingest_{kind} r JOIN registry_device d "
                                         "ON d.id = r.device_id WHERE d.name = %s ORDER BY r.id", (self.name,))]

    def stats(self) -> dict:
        """This device's visits and stay notifications on the hub, and the replays the hub answered since
        this device was enrolled (the hub counts replays for all devices; tests on one hub run one at a time)."""
        count = (lambda t: self.query(f"SELECT count(*) FROM ingest_{t} r JOIN registry_device d "
                                      "ON d.id = r.device_id WHERE d.name = %s", (self.name,))[0][0])
        return {"visits": count("visit"), "stay_notifications": count("staynotification"),
                "replays_answered": _counter(self.env, "replays_answered") - self._replays0}

    def heartbeat(self) -> dict | None:
        """The latest heartbeat the hub keeps for this device (the fleet page's row), or None."""
        rows = self.query("SELECT s.app_version, s.roster_version, s.roster_as_of, s.outbox, s.oldest_unsent_at, "
                          "s.clock_synced, s.disk_free_mb, s.devices, s.visits_today, s.open_stays, "
                          "s.earliest_stay_deadline FROM registry_devicestatus s JOIN registry_device d "
                          "ON d.id = s.device_id WHERE d.name = %s", (self.name,))
        if not rows:
            return None
        keys = ("app_version", "roster_version", "roster_as_of", "outbox", "oldest_unsent_at", "clock_synced",
                "disk_free_mb", "devices", "visits_today", "open_stays", "earliest_stay_deadline")
        return {k: (json.loads(v) if k in ("outbox", "devices", "visits_today") and isinstance(v, str) else v)
                for k, v in zip(keys, rows[0])}

    def enrol(self, name: str | None = None, facility: str | None = None) -> tuple[str, str]:
        """Another device on the same hub: (name, token)."""
        return self.env.enrol(name or f"kiosk-{next(_names)}", facility=facility or self.facility)

    def revoke(self, reason: str = "", wipe: bool = False, name: str | None = None) -> dict:
        r = self.cli("revoke", "--name", name or self.name, "--reason", reason, *(["--wipe"] if wipe else []),
                     "--json")
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    def publish(self, path: Path) -> subprocess.CompletedProcess:
        return self.cli("roster", "publish", str(path), "--json")

    def stop(self) -> None:
        if self.owns_server:
            self.live.stop()


def device_on(env: HubEnv, live: LiveHub, token_dir: Path, name: str | None = None,
              facility: str = FACILITY) -> KioskHub:
    """Enrol a new device on a running hub, its token written 0600 where a kiosk would read it."""
    name = name or f"kiosk-{next(_names)}"
    token_dir.mkdir(parents=True, exist_ok=True)
    token_file = token_dir / f"{name}.token"
    r = env.cli("enrol", "--facility", facility, "--name", name, "--token-out", str(token_file), "--json")
    assert r.returncode == 0, r.stderr
    token = json.loads(r.stdout)["token"]
    return KioskHub(env, live, name, token, token_file, facility, _replays0=_counter(env, "replays_answered"))


def start_hub(workdir: Path, *extra: str, device: str = "kiosk-1", facility: str = FACILITY, workers: int = 1,
              port: int = 0, cert: str | None = None) -> KioskHub:
    """A hub of the test's own (its own database and data directory) with one device enrolled; `stop()` it."""
    env = new_env(workdir)
    h = device_on(env, None, workdir, device, facility)  # type: ignore[arg-type]
    h.live = serve(env, *extra, workers=workers, port=port, cert=cert)
    h.owns_server = True
    return h


_shared: dict = {"users": 0}


@pytest.fixture(scope="session")
def kiosk_hub_server(tmp_path_factory):
    """One live hub for the kiosk tests that only need a device of their own on it.

    Modules in several directories import this fixture, and pytest keeps one session instance per place it
    is defined: they all share one server, stopped when the last of them is torn down."""
    if _shared["users"] == 0:
        env = new_env(tmp_path_factory.mktemp("kiosk-hub"))
        _shared["server"] = (env, serve(env, workers=2))
    _shared["users"] += 1
    try:
        yield _shared["server"]
    finally:
        _shared["users"] -= 1
        if _shared["users"] == 0:
            _shared.pop("server")[1].stop()


@pytest.fixture
def hub(kiosk_hub_server, tmp_path, request) -> KioskHub:
    """A device of this test's own on the shared hub, enrolled for the facility the test's kiosk checks in
    for: 40123 (the `service` fixture), or the CLI's default 40999 when the test runs `kiosk` (`kiosk_env`)."""
    env, live = kiosk_hub_server
    if live.proc.poll() is not None:
        raise RuntimeError(f"the shared hub died: {live.stderr()[-3000:]}")
    facility = KIOSK_DEFAULT_FACILITY if "kiosk_env" in request.fixturenames else FACILITY
    return device_on(env, live, tmp_path / "hub", facility=facility)


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def path_on(port: int, h: KioskHub, **faults):
    """The network path to hub `h` appearing on loopback `port` (until then, connections there are refused):
    a tests/faultproxy.py proxy listening on that port, forwarding to the live hub."""
    import socket
    import threading

    from tests.faultproxy import FaultProxy
    u = requests.utils.urlparse(h.url)
    p = FaultProxy(u.hostname, u.port, **faults)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(256)
    s.settimeout(0.2)
    p._sock, p.port = s, port
    threading.Thread(target=p._accept, name="faultproxy", daemon=True).start()
    return p
