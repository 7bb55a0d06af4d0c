"""The hub's tests run a real `kiosk-hub serve` (gunicorn) on loopback, on SQLite and on a real PostgreSQL
cluster this session owns (tests/hub/pg.py)."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.hub.pg import PgCluster, find_bin

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "hub" / "kiosk_hub" / "seed" / "facilities-demo.csv"
HUB_CMD = [sys.executable, "-m", "kiosk_hub.cli"]
FACILITY = "40123"          # the kiosk tests' facility code
OTHER_FACILITY = "40231"    # another district's station
ENGINES = ["sqlite", "postgres"]
_names = itertools.count()


def run_cli(env: dict, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([*HUB_CMD, *args], capture_output=True, text=True, env=env, timeout=timeout, cwd=ROOT)


@dataclass
class HubEnv:
    """One hub's configuration: its data directory and database, and the CLI pointed at them."""
    engine: str
    data_dir: Path
    db_url: str
    pg: PgCluster | None = None
    extra: dict = field(default_factory=dict)

    @property
    def env(self) -> dict:
        return {**os.environ, "KIOSK_HUB_DATA_DIR": str(self.data_dir), "KIOSK_HUB_DATABASE_URL": self.db_url,
                "KIOSK_HUB_SECRET_KEY": "test-secret-key-not-for-production-0123456789abcdef",
                "PYTHONUNBUFFERED": "1", **self.extra}

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return run_cli(self.env, *args, timeout=timeout)

    def cli_json(self, *args: str) -> dict:
        r = self.cli(*args, "--json")
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout)

    def enrol(self, name: str | None = None, facility: str = FACILITY, cli: bool = False) -> tuple[str, str]:
        """A new device and its token. Through `kiosk-hub enrol` with `cli` (or a name given, which may be a
        re-enrolment); otherwise the row `registry.services.enrol` writes, inserted directly: a test's
        devices cost no Python start-up each (test_cli and the revocation tests cover the command)."""
        if cli or name is not None:
            name = name or f"kiosk-{next(_names)}"
            return name, self.cli_json("enrol", "--facility", facility, "--name", name)["token"]
        name = f"kiosk-{os.getpid()}-{next(_names)}"
        token = secrets.token_urlsafe(32)
        now = "CURRENT_TIMESTAMP" if self.engine == "sqlite" else "now()"
        self.execute("INSERT INTO registry_device (name, facility_id, token_hash, created_at, revoke_reason, "
                     f"wipe_ordered) VALUES (%s, %s, %s, {now}, '', %s)",
                     (name, facility, hashlib.sha256(token.encode()).hexdigest(), False))
        return name, token

    def execute(self, sql: str, args: tuple = ()) -> None:
        """Write to the hub's database directly (test set-up, or a change made behind the hub's back)."""
        if self.engine == "sqlite":
            c = sqlite3.connect(self.db_url.removeprefix("sqlite:///"), timeout=30)
            try:
                c.execute(sql.replace("%s", "?"), args)
                c.commit()
            finally:
                c.close()
            return
        import psycopg
        with psycopg.connect(self.db_url.replace("postgres://", "postgresql://"), autocommit=True) as c:
            c.execute(sql, args)

    def query(self, sql: str, args: tuple = ()) -> list[tuple]:
        """Read the hub's database directly (the tests' window on what was written)."""
        if self.engine == "sqlite":
            c = sqlite3.connect(self.db_url.removeprefix("sqlite:///"), timeout=30)
            try:
                return c.execute(sql.replace("%s", "?"), args).fetchall()
            finally:
                c.close()
        import psycopg
        with psycopg.connect(self.db_url.replace("postgres://", "postgresql://"), autocommit=True) as c:
            return c.execute(sql, args).fetchall()


@dataclass
class LiveHub:
    hub: HubEnv
    proc: subprocess.Popen
    url: str
    stderr_path: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def worker_pids(self) -> list[int]:
        """The gunicorn workers: the live children of this hub's master process. A killed worker stays in /proc
        as a zombie until the master reaps it; it is not a worker any more, so it is not counted."""
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid and fields[0] != "Z":
                pids.append(int(stat.parent.name))
        return pids

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")


def start_hub(hub: HubEnv, *extra: str, workers: int = 2, ready_timeout: float = 90,
              cert: tuple[str, str] | None = None, migrate: bool = False) -> LiveHub:
    """`kiosk-hub serve` on the hub's database. The test databases are copies of a migrated template, so
    the start-up `migrate` is skipped unless asked for (test_relay_audit starts one with it)."""
    err = hub.data_dir.parent / f"hub-stderr-{next(_names)}.log"
    argv = [*HUB_CMD, "serve", "--bind", "127.0.0.1:0", "--workers", str(workers), *extra]
    if not migrate:
        argv.append("--no-migrate")
    with open(err, "wb") as ef:
        proc = subprocess.Popen(argv,
                                stdout=subprocess.PIPE, stderr=ef, text=True, env=hub.env, cwd=ROOT)
    line = _readline(proc, ready_timeout)
    if not line.startswith("hub listening on "):
        proc.kill()
        raise RuntimeError(f"hub did not start: {line!r} {err.read_text()[-3000:]}")
    live = LiveHub(hub, proc, line.split("hub listening on ", 1)[1].strip(), err)
    deadline = time.monotonic() + ready_timeout
    while True:  # the socket listens before the workers boot: wait until one answers
        try:
            if requests.get(live.url + "/readyz", timeout=5, verify=False, cert=cert).status_code == 200:
                break
        except requests.RequestException:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            live.stop()
            raise RuntimeError(f"hub never became ready: {err.read_text()[-3000:]}")
        time.sleep(0.2)
    return live


def _readline(proc: subprocess.Popen, timeout: float) -> str:
    box: list[str] = []
    t = threading.Thread(target=lambda: box.append(proc.stdout.readline()), daemon=True)
    t.start()
    t.join(timeout)
    return box[0] if box else ""


# --- databases ----------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def pg_cluster():
    bindir = find_bin()
    if bindir is None:
        msg = "PostgreSQL is not installed (/usr/lib/postgresql/*/bin/initdb); see docs/hub.md"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    cluster = PgCluster(bindir).init()
    yield cluster
    cluster.destroy()


def _prepare(hub: HubEnv) -> None:
    r = hub.cli("migrate")
    assert r.returncode == 0, r.stderr
    r = hub.cli("facilities", "import", str(SEED))
    assert r.returncode == 0, r.stderr


@pytest.fixture(scope="session")
def pg_template(pg_cluster, tmp_path_factory) -> str:
    """A migrated database with the seed registry, cloned for each test (CREATE DATABASE … TEMPLATE)."""
    url = pg_cluster.create_db("hub_template")
    _prepare(HubEnv("postgres", tmp_path_factory.mktemp("pg-template"), url, pg_cluster))
    return "hub_template"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("sqlite-template")
    hub = HubEnv("sqlite", d / "data", f"sqlite:///{d / 'data' / 'hub.db'}")
    _prepare(hub)
    sqlite3.connect(d / "data" / "hub.db").execute("PRAGMA wal_checkpoint(TRUNCATE)").connection.close()
    return d / "data" / "hub.db"


def new_hub_env(engine: str, base: Path, request) -> HubEnv:
    data = base / "data"
    data.mkdir(parents=True, mode=0o700)
    if engine == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        shutil.copyfile(template, data / "hub.db")
        os.chmod(data / "hub.db", 0o600)
        return HubEnv("sqlite", data, f"sqlite:///{data / 'hub.db'}")
    cluster = request.getfixturevalue("pg_cluster")
    template = request.getfixturevalue("pg_template")
    url = cluster.create_db(f"hub_{os.getpid()}_{next(_names)}", template=template)
    return HubEnv("postgres", data, url, cluster)


@pytest.fixture
def pg_url(request, tmp_path) -> str:
    """A fresh, migrated PostgreSQL database with the seed registry, on the session's cluster."""
    return new_hub_env("postgres", tmp_path / "pg", request).db_url


@pytest.fixture(params=ENGINES)
def hub_db(request, tmp_path) -> HubEnv:
    """A fresh hub database and data directory, on each engine in turn."""
    return new_hub_env(request.param, tmp_path / "hub", request)


@pytest.fixture
def live_hub(hub_db):
    """`kiosk-hub serve --bind 127.0.0.1:0` on the test's own database (both engines)."""
    live = start_hub(hub_db)
    yield live
    live.stop()


@pytest.fixture(scope="session", params=ENGINES)
def shared_hub(request, tmp_path_factory):
    """One live hub per engine for the session's tests that do not disturb each other: each enrols its own
    devices and counts only their rows; keys are random."""
    hub = new_hub_env(request.param, tmp_path_factory.mktemp(f"shared-{request.param}"), request)
    live = start_hub(hub)
    yield live
    live.stop()
