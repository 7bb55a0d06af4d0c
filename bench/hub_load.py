"""Load on the provincial hub: simulated kiosks speak the real contract to `kiosk-hub serve` over loopback.

    .venv/bin/python bench/hub_load.py [--quick] [--configs pg1,pg2,pg4,sqlite,old]
                                       [--pgdata DIR --keep] [--year-visits 8500000] [--json FILE]

Scenarios (issue 14, "Load, measured"), run for each configuration:
  1. steady  open loop: N kiosks, 50 visits/s in all (Poisson, one POST /v1/visits each, as the sender sends
             a lone record) + one heartbeat per kiosk every 5 minutes, at the real rates for --steady-seconds.
             Latency is measured from the scheduled send time (no coordinated omission).
  2. storm   closed loop: every kiosk comes back with --queued records and sends them in batches of 100
             (POST /v1/batch, one Idempotency-Key per record and the sender's batch key), all at once;
             a 409/503/transport failure is retried as the sender does. Duplicates and losses are counted
             in the hub's database afterwards. The dashboard is read meanwhile (scenario 4).
  3. peak    closed loop: --peak-clients clients send batches of 100 back to back for --peak-seconds.
  4. dashboard: a logged-in province admin reads the fleet page, a month of one district's use-of-readers
             page and the stays page, in turn, while the storm runs; on PostgreSQL with a year of a
             province in the database (bench/hub_year.py: visits, idempotency entries, DailyUse, stays,
             DeviceStatus, HeartbeatDay), generated once into --pgdata and reused with --keep.

Configurations: pgN = PostgreSQL with N gunicorn workers (8 threads each, the CLI default); sqlite = the
embedded engine with 4 workers; old = sync/hub.py (`python -m kiosk hub serve`) from a git worktree of
--old-commit. The PostgreSQL cluster is tests/hub/pg.py's, started with durable settings (fsync on,
synchronous_commit on) instead of the tests' fast ones. A benchmark, never a CI test.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import queue
import random
import re
import secrets
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import hub_year  # noqa: E402
from tests.hub.pg import PgCluster, find_bin  # noqa: E402

HUB = [sys.executable, "-m", "kiosk_hub.cli"]
DOCS = ("chip", "cccd_qr", "bhyt_qr", "mrz", "manual")
PROVINCE = "40"
BATCH = 100
TIMEOUT = 30.0


# --- PostgreSQL --------------------------------------------------------------------------------------

class BenchCluster(PgCluster):
    """tests/hub/pg.py's cluster, in a directory that may be kept (--pgdata), with durable settings."""

    def __init__(self, bindir: Path, root: Path | None = None):
        super().__init__(bindir)
        if root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = root
            self.data, self.sock_dir, self.log = root / "data", root / "sock", root / "postgres.log"
            root.mkdir(parents=True, exist_ok=True)
            self.sock_dir.mkdir(exist_ok=True)
            if self.as_root:
                for p in (root, self.sock_dir):
                    os.chown(p, self.uid, self.gid)
            os.chmod(root, 0o700)

    def start(self) -> None:
        opts = (f"-p {self.port} -k {self.sock_dir} -c listen_addresses=127.0.0.1 -c max_connections=200 "
                "-c shared_buffers=512MB -c work_mem=16MB -c effective_cache_size=4GB -c max_wal_size=4GB "
                "-c fsync=on -c synchronous_commit=on")
        self._run("pg_ctl", "-D", str(self.data), "-o", opts, "-l", str(self.log), "-w", "-t", "120", "start")

    def has_data(self) -> bool:
        return (self.data / "PG_VERSION").exists()


# --- hubs ----------------------------------------------------------------------------------------------

class Hub:
    """One running hub and what the bench needs of it: URL, tokens, a way to count rows."""

    def __init__(self, label: str, env: dict, cwd: Path):
        self.label, self.env, self.cwd = label, env, cwd
        self.proc: subprocess.Popen | None = None
        self.url = ""
        self.kiosks: list[dict] = []

    def cli(self, *args: str, timeout: float = 600) -> str:
        r = subprocess.run([*HUB, *args], env=self.env, cwd=self.cwd, capture_output=True, text=True,
                           timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError(f"kiosk-hub {args[0]} failed: {r.stderr[-2000:]}")
        return r.stdout

    def start(self, argv: list[str]) -> None:
        self.errlog = tempfile.NamedTemporaryFile(prefix=f"hub-{self.label}-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(argv, env=self.env, cwd=self.cwd, stdout=subprocess.PIPE,
                                     stderr=self.errlog, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"hub listening on (\S+)", line)
        if not m:
            raise RuntimeError(f"{self.label}: hub did not start: {line!r} {Path(self.errlog.name).read_text()[-2000:]}")
        self.url = m.group(1)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/v1/health", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"{self.label}: hub never answered /v1/health")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def count(self, base: int, n: int) -> tuple[int, int]:
        """(rows, distinct (device, record)) of the visits with record ids in [base, base + n): the storm's."""
        raise NotImplementedError


class NewHub(Hub):
    def __init__(self, label: str, db_url: str, data_dir: Path, workers: int):
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        env = {**os.environ, "KIOSK_HUB_DATABASE_URL": db_url, "KIOSK_HUB_DATA_DIR": str(data_dir),
               "KIOSK_HUB_SECRET_KEY": secrets.token_hex(32), "PYTHONUNBUFFERED": "1"}
        super().__init__(label, env, ROOT)
        self.db_url, self.data_dir, self.workers = db_url, data_dir, workers

    def prepare(self, facilities_csv: Path, names: list[tuple[str, str]]) -> None:
        self.cli("migrate")
        self.cli("facilities", "import", str(facilities_csv))
        # registry.services.enrol is what `kiosk-hub enrol` calls; one process enrols the whole fleet.
        code = ("import json, sys\nfrom kiosk_hub.boot import setup\nsetup()\n"
                "from kiosk_hub.registry.services import enrol\n"
                "out = [dict(name=n, facility=f, token=enrol(f, n, actor='bench')[1]) for n, f in json.load(sys.stdin)]\n"
                "json.dump(out, sys.stdout)\n")
        r = subprocess.run([sys.executable, "-c", code], input=json.dumps(names), env=self.env, cwd=ROOT,
                           capture_output=True, text=True, timeout=900)
        if r.returncode != 0:
            raise RuntimeError(f"enrol failed: {r.stderr[-2000:]}")
        self.kiosks = json.loads(r.stdout)

    def serve(self) -> None:
        self.start([*HUB, "serve", "--bind", "127.0.0.1:0", "--workers", str(self.workers)])

    def count(self, base: int, n: int) -> tuple[int, int]:
        sql = ("SELECT count(*), count(DISTINCT (device_id, record_id)) FROM ingest_visit WHERE record_id >= %s AND record_id < %s")
        if self.db_url.startswith("sqlite:///"):
            c = sqlite3.connect(self.db_url.removeprefix("sqlite:///"), timeout=60)
            try:
                rows = c.execute("SELECT count(*) FROM ingest_visit WHERE record_id >= ? AND record_id < ?", [base, base + n]).fetchone()[0]
                distinct = c.execute("SELECT count(*) FROM (SELECT DISTINCT device_id, record_id FROM ingest_visit "
                                     "WHERE record_id >= ? AND record_id < ?)", [base, base + n]).fetchone()[0]
                return rows, distinct
            finally:
                c.close()
        import psycopg
        with psycopg.connect(self.db_url, autocommit=True) as c:
            return tuple(c.execute(sql, [base, base + n]).fetchone())

    def create_admin(self) -> tuple[str, str]:
        pw = secrets.token_urlsafe(18)
        f = self.data_dir / "bench-admin.pw"
        f.write_text(pw + "\n")
        os.chmod(f, 0o600)
        self.cli("createadmin", "--username", "bench-admin", "--password-file", str(f))
        return "bench-admin", pw


class OldHub(Hub):
    """sync/hub.py from a git worktree: `python -m kiosk hub serve --db FILE --port 0`, enrolled by its own code."""

    def __init__(self, worktree: Path, db: Path):
        env = {**os.environ, "PYTHONPATH": str(worktree), "PYTHONUNBUFFERED": "1"}
        super().__init__("old", env, worktree)
        self.worktree, self.db = worktree, db
        self.argv = [sys.executable, "-m", "kiosk", "hub", "serve", "--db", str(db), "--port", "0"]

    def prepare(self, facilities_csv: Path, names: list[tuple[str, str]]) -> None:
        code = ("import json, sys\nfrom sync.hub import HubStore\ns = HubStore(sys.argv[1])\n"
                "json.dump([dict(name=n, facility=f, token=s.enrol(n)) for n, f in json.load(sys.stdin)], sys.stdout)\n")
        r = subprocess.run([sys.executable, "-c", code, str(self.db)], input=json.dumps(names), env=self.env,
                           cwd=self.worktree, capture_output=True, text=True, timeout=900)
        if r.returncode != 0:
            raise RuntimeError(f"old hub enrol failed: {r.stderr[-2000:]}")
        self.kiosks = json.loads(r.stdout)

    def serve(self) -> None:
        self.start(self.argv)

    def count(self, base: int, n: int) -> tuple[int, int]:
        c = sqlite3.connect(self.db, timeout=60)
        try:
            rows = c.execute("SELECT count(*) FROM visits WHERE record_id >= ? AND record_id < ?", [base, base + n]).fetchone()[0]
            distinct = c.execute("SELECT count(*) FROM (SELECT DISTINCT device_id, record_id FROM visits "
                                 "WHERE record_id >= ? AND record_id < ?)", [base, base + n]).fetchone()[0]
            return rows, distinct
        finally:
            c.close()


# --- the province ------------------------------------------------------------------------------------

def facilities_csv(path: Path, n: int) -> list[str]:
    """n stations in districts of ~23 (a province of 460 stations has ~20 districts)."""
    codes = []
    with open(path, "w", encoding="utf-8") as f:
        f.write("code,name,district_code,district_name,province_code,province_name\n")
        for i in range(n):
            code, d = f"{41000 + i}", 500 + i // 23
            codes.append(code)
            f.write(f"{code},Tram Y te bench {i},{d},Huyen bench {d},{PROVINCE},Tinh bench\n")
    return codes


def visit_body(fac: str, rid: int, now: datetime) -> dict:
    """The kiosk's upstream visit payload (kiosk/services/checkin.py _upstream_payload), synthetic person."""
    rnd = random.Random(rid)
    return {"visit_id": rid, "facility_code": fac, "visit_date": now.date().isoformat(),
            "queue_number": 1 + rid % 500, "source": "serial", "document": DOCS[rid % 5],
            "created_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "clock_synced": True,
            "patient": {"id_number": "0" + "".join(rnd.choice("0123456789") for _ in range(11)),
                        "social_insurance_number": "".join(rnd.choice("0123456789") for _ in range(10)),
                        "card_number": "DN4" + "".join(rnd.choice("0123456789") for _ in range(12)),
                        "full_name": "Nguyen Van Bench", "date_of_birth": "1980-01-01", "sex": "M"},
            "eligibility": {"result_code": "000", "benefit_percent": 80, "source": "roster", "as_of": "2026-11-01"}}


def heartbeat_body(now: datetime) -> dict:
    return {"app_version": "1.4.0", "roster_version": 42, "roster_as_of": now.date().isoformat(),
            "outbox": {"queued": 0, "acknowledged": 120}, "clock_synced": True, "disk_free_mb": 9000,
            "devices": {"scanner": "ok", "chip": "ok", "camera": "ok", "printer": "absent"},
            "visits_today": {"chip": 12, "bhyt_qr": 7}, "open_stays": 0,
            "sent_at": now.strftime("%Y-%m-%dT%H:%M:%SZ")}


def pct(xs: list[float], p: float) -> float | None:
    if not xs:
        return None
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, int(round(p / 100 * len(xs) + 0.5)) - 1))]


def summary(xs: list[float]) -> dict:
    return {"n": len(xs), "p50_ms": _ms(pct(xs, 50)), "p95_ms": _ms(pct(xs, 95)), "p99_ms": _ms(pct(xs, 99)),
            "max_ms": _ms(max(xs) if xs else None)}


def _ms(s: float | None) -> float | None:
    return None if s is None else round(s * 1000, 1)


class Kiosk:
    def __init__(self, k: dict, url: str):
        self.name, self.facility, self.url = k["name"], k["facility"], url
        self.s = requests.Session()
        self.s.headers["Authorization"] = f"Bearer {k['token']}"
        self.lock = threading.Lock()

    def post(self, path: str, body: bytes, key: str | None) -> tuple[int, float, dict | None]:
        h = {"Content-Type": "application/json"}
        if key:
            h["Idempotency-Key"] = key
        t = time.monotonic()
        with self.lock:
            r = self.s.post(self.url + path, data=body, headers=h, timeout=TIMEOUT)
        dt = time.monotonic() - t
        try:
            data = r.json()
        except ValueError:
            data = None
        return r.status_code, dt, data


def _dumps(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


# --- scenario 1: steady state (open loop) --------------------------------------------------------------

def steady(hub: Hub, kiosks: list[Kiosk], seconds: float, rate: float, base: int, heartbeat: bool) -> dict:
    rnd = random.Random(1)
    events: list[tuple[float, str, Kiosk]] = []
    t = 0.0
    while True:
        t += rnd.expovariate(rate)
        if t >= seconds:
            break
        events.append((t, "visit", rnd.choice(kiosks)))
    if heartbeat:  # each kiosk every 300 s, at a random phase
        for k in kiosks:
            ph = rnd.uniform(0, 300)
            while ph < seconds:
                events.append((ph, "heartbeat", k))
                ph += 300
    events.sort(key=lambda e: e[0])
    q: queue.Queue = queue.Queue()
    lat = {"visit": [], "heartbeat": []}
    errors = {"visit": 0, "heartbeat": 0}
    counter = iter(range(base, base + 10 ** 8))
    lock = threading.Lock()
    t0 = time.monotonic() + 0.5

    def worker():
        while True:
            ev = q.get()
            if ev is None:
                return
            at, kind, k = ev
            now = datetime.now(timezone.utc)
            try:
                if kind == "visit":
                    with lock:
                        rid = next(counter)
                    st, _, _ = k.post("/v1/visits", _dumps(visit_body(k.facility, rid, now)), str(uuid.uuid4()))
                    ok = st == 201
                else:
                    st, _, _ = k.post("/v1/heartbeat", _dumps(heartbeat_body(now)), None)
                    ok = st == 200
            except requests.RequestException:
                ok = False
            done = time.monotonic() - t0
            with lock:
                if ok:
                    lat[kind].append(done - at)
                else:
                    errors[kind] += 1

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(96)]
    for th in threads:
        th.start()
    for ev in events:
        d = t0 + ev[0] - time.monotonic()
        if d > 0:
            time.sleep(d)
        q.put(ev)
    for _ in threads:
        q.put(None)
    for th in threads:
        th.join()
    out = {"seconds": seconds, "visits_per_s": rate, "write": summary(lat["visit"]), "write_errors": errors["visit"]}
    if heartbeat:
        out.update(heartbeat=summary(lat["heartbeat"]), heartbeat_errors=errors["heartbeat"])
    else:
        out["heartbeat"] = "not in this hub's contract"
    return out


# --- scenario 2 + 4: reconnect storm with the dashboard read meanwhile ---------------------------------

def send_batches(k: Kiosk, batches: list[list[tuple[str, dict]]], lat: list, stats: dict, lock) -> None:
    """The sender's loop for one kiosk: batch after batch, retrying refused/failed items (409, 503, resets)."""
    for items in batches:
        pending = items
        tries = 0
        while pending:
            keys = [key for key, _ in pending]
            body = _dumps({"items": [{"kind": "visit", "idempotency_key": key, "body": b} for key, b in pending]})
            batch_key = hashlib.sha256("\n".join(keys).encode()).hexdigest()
            t_req = time.monotonic()
            try:
                st, dt, data = k.post("/v1/batch", body, batch_key)
            except requests.RequestException as e:   # its real duration, and what it was (timeout or reset)
                st, dt, data = 0, time.monotonic() - t_req, None
                with lock:
                    stats.setdefault("exceptions", {}).setdefault(type(e).__name__, 0)
                    stats["exceptions"][type(e).__name__] += 1
            with lock:
                if st:
                    stats.setdefault("statuses", {}).setdefault(str(st), 0)
                    stats["statuses"][str(st)] += 1
                lat.append(dt)
                stats["requests"] += 1
            retry = []
            if st == 200 and data and isinstance(data.get("results"), list):
                for (key, b), res in zip(pending, data["results"]):
                    if res.get("status") == 201:
                        with lock:
                            stats["acked"] += 1
                            stats["replayed"] += bool(res.get("replayed"))
                    elif res.get("status") in (409, 503):
                        retry.append((key, b))
                    else:
                        with lock:
                            stats["refused"] += 1
            else:
                retry = pending
                with lock:
                    stats["failed_requests"] += 1
            pending = retry
            if pending:
                tries += 1
                time.sleep(min(5.0, 0.2 * 2 ** tries) * random.random())


def dashboard_reader(url: str, user: str, pw: str, district: str, stop: threading.Event, out: dict,
                     ready: threading.Event) -> None:
    s = requests.Session()
    r = s.get(url + "/accounts/login/", timeout=TIMEOUT)
    m = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', r.text)
    r = s.post(url + "/accounts/login/", data={"username": user, "password": pw,
                                                "csrfmiddlewaretoken": m.group(1) if m else ""},
               headers={"Referer": url + "/accounts/login/"}, timeout=TIMEOUT, allow_redirects=False)
    ready.set()
    if r.status_code not in (302, 303):
        out["error"] = f"login answered {r.status_code}"
        return
    end = date.today()
    pages = {"fleet": "/fleet/",
             "use_month_district": f"/use/?period=day&by=station&district={district}"
                                   f"&start={(end - timedelta(days=30)).isoformat()}&end={end.isoformat()}",
             "stays": "/stays/"}
    for name in pages:
        out.setdefault(name, [])
    while not stop.is_set():
        for name, path in pages.items():
            t = time.monotonic()
            try:
                r = s.get(url + path, timeout=TIMEOUT)
                ok = r.status_code == 200
            except requests.RequestException:
                ok = False
            if ok:
                out[name].append(time.monotonic() - t)
            else:
                out.setdefault(name + "_errors", 0)
                out[name + "_errors"] = out.get(name + "_errors", 0) + 1
            if stop.is_set():
                break


def storm(hub: Hub, kiosks: list[Kiosk], queued: int, base: int, dashboard: tuple | None) -> dict:
    now = datetime.now(timezone.utc)
    plan = []
    rid = base
    for k in kiosks:
        items = []
        for _ in range(queued):
            items.append((str(uuid.uuid4()), visit_body(k.facility, rid, now)))
            rid += 1
        plan.append([items[i:i + BATCH] for i in range(0, len(items), BATCH)])
    lat: list[float] = []
    stats = {"requests": 0, "acked": 0, "replayed": 0, "refused": 0, "failed_requests": 0}
    lock = threading.Lock()
    threads = [threading.Thread(target=send_batches, args=(k, b, lat, stats, lock), daemon=True)
               for k, b in zip(kiosks, plan)]
    dash: dict = {}
    stop = threading.Event()
    reader = None
    if dashboard:
        ready = threading.Event()
        reader = threading.Thread(target=dashboard_reader, args=(hub.url, *dashboard, stop, dash, ready), daemon=True)
        reader.start()
        ready.wait(120)  # logged in before the storm starts
    t0 = time.monotonic()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    drained = time.monotonic() - t0
    stop.set()
    if reader:
        reader.join(60)
    expected = len(kiosks) * queued
    rows, distinct = hub.count(base, expected)
    out = {"records": expected, "drained_s": round(drained, 1), "records_per_s": round(expected / drained),
           "request": summary(lat), "over_10s": sum(1 for x in lat if x > 10), **stats,
           "hub_rows": rows, "duplicates": rows - distinct, "losses": expected - distinct}
    if dashboard:
        out["dashboard"] = {k: (summary(v) if isinstance(v, list) else v) for k, v in dash.items()}
    return out


# --- scenario 3: peak ingest ----------------------------------------------------------------------------

def peak(hub: Hub, kiosks: list[Kiosk], clients: int, seconds: float, base: int) -> dict:
    stop = time.monotonic() + seconds
    acked = [0] * clients
    lat: list[float] = []
    lock = threading.Lock()
    now = datetime.now(timezone.utc)

    def client(i: int):
        k = kiosks[i % len(kiosks)]
        rid = base + i * 10 ** 7
        while time.monotonic() < stop:
            items = [{"kind": "visit", "idempotency_key": str(uuid.uuid4()),
                      "body": visit_body(k.facility, rid + j, now)} for j in range(BATCH)]
            rid += BATCH
            keys = [it["idempotency_key"] for it in items]
            try:
                st, dt, data = k.post("/v1/batch", _dumps({"items": items}),
                                      hashlib.sha256("\n".join(keys).encode()).hexdigest())
            except requests.RequestException:
                continue
            with lock:
                lat.append(dt)
            if st == 200 and data:
                acked[i] += sum(1 for r in data["results"] if r.get("status") == 201)

    t0 = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    el = time.monotonic() - t0
    return {"clients": clients, "seconds": round(el, 1), "records": sum(acked),
            "records_per_s": round(sum(acked) / el), "request": summary(lat)}


# --- running a configuration ----------------------------------------------------------------------------

def run_config(hub: Hub, args, district: str, dashboard_login: tuple | None, results: dict) -> None:
    kiosks = [Kiosk(k, hub.url) for k in hub.kiosks]
    base = int(time.time()) * 10 ** 9  # this configuration's record ids: a range no other run uses
    r: dict = {}
    print(f"[{hub.label}] steady: {len(kiosks)} kiosks, {args.rate:g} visits/s, {args.steady_seconds:g} s", flush=True)
    r["steady"] = steady(hub, kiosks, args.steady_seconds, args.rate, base, heartbeat=not isinstance(hub, OldHub))
    print(f"[{hub.label}]   {json.dumps(r['steady'])}", flush=True)
    base += 10 ** 6
    print(f"[{hub.label}] storm: {len(kiosks)} x {args.queued} queued, batches of {BATCH}", flush=True)
    dash = (dashboard_login[0], dashboard_login[1], district) if dashboard_login else None
    r["storm"] = storm(hub, kiosks, args.queued, base, dash)
    print(f"[{hub.label}]   {json.dumps(r['storm'])}", flush=True)
    base += 10 ** 7
    print(f"[{hub.label}] peak: {args.peak_clients} clients, batches of {BATCH}, {args.peak_seconds:g} s", flush=True)
    r["peak"] = peak(hub, kiosks, args.peak_clients, args.peak_seconds, base + 10 ** 8)
    print(f"[{hub.label}]   {json.dumps(r['peak'])}", flush=True)
    results[hub.label] = r


def machine() -> dict:
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    pick = {k: v.strip() for k, _, v in (ln.partition(":") for ln in lscpu.splitlines())
            if k in ("Model name", "CPU(s)", "Thread(s) per core", "Core(s) per socket")}
    return {"lscpu": pick, "python": platform.python_version(), "loadavg": os.getloadavg(),
            "mem_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2 ** 30, 1)}


def _v(x) -> str:
    return "–" if x is None else f"{x:g}" if isinstance(x, (int, float)) else str(x)


def report(results: dict) -> str:
    """Markdown tables of a results file (--json), for docs/benchmarks.md."""
    labels = [k for k in ("pg1", "pg2", "pg4", "sqlite", "old") if k in results]
    out = ["| scenario / target | " + " | ".join(labels) + " |", "|---|" + "---:|" * len(labels)]

    def row(name, get):
        cells = []
        for k in labels:
            try:
                cells.append(_v(get(results[k])))
            except (KeyError, TypeError):
                cells.append("–")
        out.append(f"| {name} | " + " | ".join(cells) + " |")

    row("steady: write p50 ms", lambda r: r["steady"]["write"]["p50_ms"])
    row("steady: write p99 ms (≤ 100)", lambda r: r["steady"]["write"]["p99_ms"])
    row("steady: write errors", lambda r: r["steady"]["write_errors"])
    row("steady: heartbeat p99 ms (≤ 100)", lambda r: r["steady"]["heartbeat"]["p99_ms"])
    row("storm: drained s (≤ 60)", lambda r: r["storm"]["drained_s"])
    row("storm: records/s", lambda r: r["storm"]["records_per_s"])
    row("storm: request p99 ms", lambda r: r["storm"]["request"]["p99_ms"])
    row("storm: request max ms (≤ 10000)", lambda r: r["storm"]["request"]["max_ms"])
    row("storm: requests over 10 s (0)", lambda r: r["storm"]["over_10s"])
    row("storm: requests / failed requests", lambda r: f"{r['storm']['requests']} / {r['storm']['failed_requests']}")
    row("storm: duplicates on the hub (0)", lambda r: r["storm"]["duplicates"])
    row("storm: losses on the hub (0)", lambda r: r["storm"]["losses"])
    for page in ("fleet", "use_month_district", "stays"):
        row(f"dashboard during storm: {page} p95 ms (≤ 500) [n]",
            lambda r, p=page: f"{_v(r['storm']['dashboard'][p]['p95_ms'])} [{r['storm']['dashboard'][p]['n']}]")
    row("peak: records/s (≥ 3000 on pg4)", lambda r: r["peak"]["records_per_s"])
    row("peak: request p99 ms", lambda r: r["peak"]["request"]["p99_ms"])
    return "\n".join(out)


def main(argv=None) -> int:
    if argv is None and len(sys.argv) == 3 and sys.argv[1] == "--report":
        print(report(json.loads(Path(sys.argv[2]).read_text())))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="smoke run: 46 kiosks, 10 s, 20 queued, small year")
    ap.add_argument("--configs", default="pg1,pg2,pg4,sqlite,old")
    ap.add_argument("--kiosks", type=int, default=460)
    ap.add_argument("--rate", type=float, default=50.0, help="visits/s in all (steady state)")
    ap.add_argument("--steady-seconds", type=float, default=90.0)
    ap.add_argument("--queued", type=int, default=200, help="records queued per kiosk (storm)")
    ap.add_argument("--peak-clients", type=int, default=32)
    ap.add_argument("--peak-seconds", type=float, default=30.0)
    ap.add_argument("--year-visits", type=int, default=8_500_000)
    ap.add_argument("--year-stays", type=int, default=100_000)
    ap.add_argument("--pgdata", type=Path, help="the PostgreSQL cluster directory (reused when it holds a year)")
    ap.add_argument("--keep", action="store_true", help="keep the --pgdata cluster for the next run")
    ap.add_argument("--old-commit", default="HEAD", help="commit holding sync/hub.py (default HEAD)")
    ap.add_argument("--json", type=Path, help="also write the results to this file")
    ap.add_argument("--report", type=Path, metavar="JSON", help="print a results file as Markdown tables and exit")
    a = ap.parse_args(argv)
    if a.quick:
        a.kiosks, a.steady_seconds, a.queued, a.peak_seconds, a.peak_clients = 46, 10.0, 20, 5.0, 8
        a.year_visits, a.year_stays = min(a.year_visits, 200_000), min(a.year_stays, 5_000)
    configs = [c.strip() for c in a.configs.split(",") if c.strip()]
    results: dict = {"machine_before": machine(), "args": vars(a) | {"pgdata": str(a.pgdata), "json": str(a.json)}}
    work = Path(tempfile.mkdtemp(prefix="hub-load-"))
    csv = work / "facilities.csv"
    codes = facilities_csv(csv, a.kiosks)
    names = [(f"bench-{i:03d}", codes[i]) for i in range(a.kiosks)]
    district = str(500 + 1)
    cluster = None
    try:
        if any(c.startswith("pg") for c in configs):
            bindir = find_bin()
            if bindir is None:
                raise SystemExit("PostgreSQL is not installed (/usr/lib/postgresql/*/bin/initdb)")
            cluster = BenchCluster(bindir, a.pgdata)
            fresh = not cluster.has_data()
            if fresh:
                cluster.init()
            else:
                cluster.start()
            import psycopg
            with psycopg.connect(cluster.url(), autocommit=True) as c:
                has_year = c.execute("SELECT 1 FROM pg_database WHERE datname = 'hub_year'").fetchone() is not None
            url = cluster.url("hub_year").replace("postgres://", "postgresql://")
            hub = NewHub("pg", url.replace("postgresql://", "postgres://"), work / "pg-data", 1)
            if not has_year:
                cluster.create_db("hub_year")
                print(f"generating a year: {a.year_visits:,} visits, {a.year_stays:,} stays, {a.kiosks} devices",
                      flush=True)
                t = time.monotonic()
                hub.prepare(csv, names)
                results["year"] = hub_year.generate(url, a.year_visits, a.year_stays)
                results["year"]["setup_s"] = round(time.monotonic() - t - results["year"]["total_s"], 1)
            else:
                print("reusing the year in --pgdata (re-enrolling the devices for new tokens)", flush=True)
                hub.prepare(csv, names)
                with psycopg.connect(url, autocommit=True) as c:
                    results["year"] = {"reused": True, "visits": c.execute(
                        "SELECT count(*) FROM ingest_visit").fetchone()[0]}
            login = hub.create_admin()
            for cfg in configs:
                if not cfg.startswith("pg"):
                    continue
                h = NewHub(cfg, hub.db_url, work / f"{cfg}-data", int(cfg[2:]))
                h.kiosks = hub.kiosks
                h.serve()
                try:
                    run_config(h, a, district, login, results)
                finally:
                    h.stop()
        if "sqlite" in configs:
            d = work / "sqlite-data"
            h = NewHub("sqlite", f"sqlite:///{d / 'hub.db'}", d, 4)
            h.prepare(csv, names)
            login = h.create_admin()
            h.serve()
            try:
                run_config(h, a, district, login, results)
            finally:
                h.stop()
        if "old" in configs:
            commit = subprocess.run(["git", "rev-parse", a.old_commit], cwd=ROOT, capture_output=True, text=True,
                                    check=True).stdout.strip()
            wt = Path(f"/tmp/oldhub-{commit[:10]}")
            if not (wt / "sync" / "hub.py").exists():
                subprocess.run(["git", "worktree", "add", "--detach", str(wt), commit], cwd=ROOT, check=True,
                               capture_output=True)
            h = OldHub(wt, work / "old-hub.db")
            h.prepare(csv, names)
            h.serve()
            results["old_hub"] = {"commit": commit, "worktree": str(wt), "command": " ".join(h.argv)}
            try:
                run_config(h, a, district, None, results)
            finally:
                h.stop()
    finally:
        if cluster is not None:
            if a.keep and a.pgdata:
                cluster.stop()
            else:
                cluster.destroy()
        shutil.rmtree(work, ignore_errors=True)
    results["machine_after"] = machine()
    print(json.dumps(results, indent=1))
    if a.json:
        a.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
