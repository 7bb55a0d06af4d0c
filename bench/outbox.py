"""Outbox sync benchmark: sustained send throughput to a local hub, and draining a backlog after an outage.

    .venv/bin/python bench/outbox.py [--backlog 10000] [--sustained 3000] [--repeat 2] [--no-old]

Runs the real hub (`kiosk-hub serve`, gunicorn + Django on SQLite, 2 workers) on loopback and the real sender
(sync/sender.py) in this process, against a fresh kiosk database whose
outbox rows look like real visits. Alternatives measured in the same run:
one record per request (the plain contract) and batches of 20 and 100 (each
record keeps its own idempotency key and answer).

The backlog test queues the records while the hub is down and runs
`Sender.run` as `kiosk sync run` does. When the sender's circuit breaker has
opened, it waits a random part of one cooldown more (so the hub returns at
a random point of the probe cycle), starts the hub, and times from "hub
listening" to the first answered request and to "outbox empty", counting the
requests the down hub received. Settings measured in the same run: the
shipped ones (`Settings()`: upstream.backoff_max_seconds /
upstream.breaker_cooldown_seconds defaults), the previous defaults (60 s /
30 s) and the short test settings this bench used before (0.5 s / 0.5 s).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kiosk import store  # noqa: E402
from kiosk.store import outbox
from sync.client import HubClient  # noqa: E402
from sync.sender import Sender, Settings  # noqa: E402

HUB = [str(Path(sys.executable).with_name("kiosk-hub"))]
SEED = ROOT / "hub" / "kiosk_hub" / "seed" / "facilities-demo.csv"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hub_env(work: Path) -> dict:
    data = work / "hub"
    data.mkdir(mode=0o700, exist_ok=True)
    return {**os.environ, "KIOSK_HUB_DATA_DIR": str(data), "KIOSK_HUB_DATABASE_URL": f"sqlite:///{data / 'hub.db'}",
            "PYTHONUNBUFFERED": "1"}


def hub_cli(env: dict, *args: str) -> str:
    r = subprocess.run(HUB + list(args), env=env, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"kiosk-hub {args[0]} failed: {r.stderr.strip()}")
    return r.stdout


def start_hub(env: dict, port: int) -> subprocess.Popen:
    p = subprocess.Popen(HUB + ["serve", "--bind", f"127.0.0.1:{port}", "--workers", "2", "--no-migrate"], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline()
    if not line.startswith("hub listening on"):
        raise SystemExit(f"hub did not start: {line!r}")
    return p


def fill(db, n: int, start: int) -> None:
    now = datetime.now(timezone.utc)
    for lo in range(start, start + n, 1000):
        with store.transaction(db) as conn:
            for i in range(lo, min(lo + 1000, start + n)):
                outbox.enqueue(conn, "visit", i, {
                    "visit_id": i, "facility_code": "40123", "visit_date": "2026-11-26", "queue_number": i % 999 + 1,
                    "source": "serial", "created_at": "2026-11-26T02:30:00Z", "clock_synced": False,
                    "patient": {"id_number": f"0401{i:08d}", "social_insurance_number": None, "card_number": None,
                                "full_name": "Nguyễn Văn Thử", "date_of_birth": "1990-01-01", "sex": "male"},
                    "eligibility": {"result_code": "000", "benefit_percent": 100, "source": "roster",
                                    "as_of": "2026-11-25"}}, now)


def remaining(db) -> int:
    return db.execute("SELECT count(*) FROM outbox WHERE state IN ('queued', 'sent')").fetchone()[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backlog", type=int, default=10_000)
    ap.add_argument("--sustained", type=int, default=3000, help="records per batch-size run (size 1 uses a fifth)")
    ap.add_argument("--repeat", type=int, default=2, help="backlog runs at the shipped settings")
    ap.add_argument("--no-old", action="store_true", help="skip the previous defaults (each run takes ~1 min)")
    ap.add_argument("--seed", type=int, default=1, help="when in the probe cycle the hub returns")
    args = ap.parse_args()
    import logging
    logging.basicConfig(level=logging.ERROR)  # the sender's retry warnings during the outage are expected
    work = Path(tempfile.mkdtemp(prefix="bench-outbox-"))
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")),
               platform.processor())
    print(f"machine: {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, load average {os.getloadavg()[0]:.1f} at start")

    env = hub_env(work)
    hub_cli(env, "migrate")
    hub_cli(env, "facilities", "import", str(SEED))
    token = json.loads(hub_cli(env, "enrol", "--facility", "40123", "--name", "bench", "--json"))["token"]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    db = store.connect(work / "kiosk.db")
    next_id = 1

    # 1. sustained throughput by batch size, hub up
    hub = start_hub(env, port)
    import requests
    while True:  # the workers boot after the socket listens
        try:
            requests.get(url + "/readyz", timeout=5)
            break
        except requests.RequestException:
            time.sleep(0.1)
    print("\nsustained send to the local hub (records/s):")
    for size in (1, 20, 100):
        n = max(200, args.sustained // 5) if size == 1 else args.sustained
        fill(db, n, next_id)
        next_id += n
        sender = Sender(db, HubClient(url, token), settings=Settings(batch_size=size))
        t0 = time.perf_counter()
        r = sender.once()
        dt = time.perf_counter() - t0
        assert remaining(db) == 0 and r.acknowledged == n, (r, remaining(db))
        print(f"  batch {size:>3}: {n:>6} records in {dt:6.2f} s = {n / dt:8.0f} records/s ({r.requests} requests)")
    hub.terminate()
    hub.wait()

    # 2. backlog queued during an outage, drained when the hub comes back, at several breaker settings
    configs = [("shipped", Settings())] * args.repeat
    if not args.no_old:
        configs += [("previous defaults", Settings(backoff_max=60.0, breaker_cooldown=30.0))]
    configs += [("bench's old 0.5/0.5", Settings(backoff_base=0.05, backoff_max=0.5, breaker_threshold=3,
                                                 breaker_cooldown=0.5))]
    expected = next_id - 1
    rows, ok = [], True
    import random
    rng = random.Random(args.seed)
    for label, settings in configs:
        fill(db, args.backlog, next_id)
        next_id += args.backlog
        expected += args.backlog
        client = CountingClient(url, token)
        sender = Sender(db, client, settings=settings)
        stop = threading.Event()
        t = threading.Thread(target=sender.run, args=(stop,), daemon=True)
        t_down = time.perf_counter()
        t.start()
        while sender.open_until == 0:
            time.sleep(0.05)
        time.sleep(rng.uniform(0, settings.breaker_cooldown))  # the hub returns at a random point of the cycle
        down_s = time.perf_counter() - t_down
        down_requests, down_probes = client.requests, client.probes
        hub = start_hub(env, port)
        t_up = time.perf_counter()
        while remaining(db):
            time.sleep(0.02)
        drain = time.perf_counter() - t_up
        first = client.first_answer - t_up
        stop.set()
        t.join(5)
        hub.terminate()
        hub.wait()
        rows.append((label, settings, down_s, down_requests, down_probes, first, drain))
    st = json.loads(hub_cli(env, "stats", "--json"))
    print(f"\nbacklog of {args.backlog} records queued while the hub was down, drained by `Sender.run` "
          f"(batch 100); the hub returns after the circuit opened, at a random point of one cooldown:")
    print(f"  {'settings':<22}{'backoff max':>12}{'cooldown':>9}{'down s':>8}{'requests while down':>21}"
          f"{'first answer s':>16}{'drained s':>11}{'records/s':>11}")
    for label, s, down_s, n, probes, first, drain in rows:
        print(f"  {label:<22}{s.backoff_max:>11g}s{s.breaker_cooldown:>8g}s{down_s:>8.1f}"
              f"{f'{n} ({probes} probes)':>21}{first:>16.2f}{drain:>11.2f}{args.backlog / drain:>11.0f}")
    print("  (first answer = the first request the returned hub answered, after it started listening (its "
          "workers boot after that); "
          "drained = outbox empty; targets: first answer ≤ 10 s, 10 000 drained ≤ 20 s)")
    print(f"  hub holds {st['visits']} visits (expected {expected}), {st['replays_answered']} replays answered")
    ok = st["visits"] == expected
    print(f"  load average at the end: {os.getloadavg()[0]:.1f}")
    return 0 if ok else 1


class CountingClient(HubClient):
    """The real client, counting requests (and health probes) and noting when the hub first answered."""

    def __init__(self, url, token):
        super().__init__(url, token)
        self.requests = self.probes = 0
        self.first_answer = None

    def request(self, method, path, **kw):
        self.requests += 1
        self.probes += path == "/v1/health"
        r = super().request(method, path, **kw)
        if r.status_code < 500 and self.first_answer is None:
            self.first_answer = time.perf_counter()
        return r


if __name__ == "__main__":
    raise SystemExit(main())
