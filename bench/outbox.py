"""Outbox sync benchmark: sustained send throughput to a local hub, and draining a backlog after an outage.

    .venv/bin/python bench/outbox.py [--backlog 10000] [--sustained 3000]

Runs a real `kiosk hub serve` subprocess on loopback and the real sender
(sync/sender.py) in this process, against a fresh kiosk database whose
outbox rows look like real visits. Alternatives measured in the same run:
one record per request (the plain contract) and batches of 20 and 100 (each
record keeps its own idempotency key and answer). The backlog test queues
the records while the hub is down (the sender's circuit breaker is open),
then starts the hub and times from "hub answers" to "outbox empty".
"""

from __future__ import annotations

import argparse
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

from kiosk import outbox, store  # noqa: E402
from sync.client import HubClient  # noqa: E402
from sync.sender import Sender, Settings  # noqa: E402

KIOSK = [str(Path(sys.executable).with_name("kiosk"))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_hub(db: Path, port: int) -> subprocess.Popen:
    p = subprocess.Popen(KIOSK + ["hub", "serve", "--db", str(db), "--port", str(port)], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline()
    if "listening" not in line:
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
    args = ap.parse_args()
    import logging
    logging.basicConfig(level=logging.ERROR)  # the sender's retry warnings during the outage are expected
    work = Path(tempfile.mkdtemp(prefix="bench-outbox-"))
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")),
               platform.processor())
    print(f"machine: {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC")

    from sync.hub import HubStore
    hub_db = work / "hub.db"
    token = HubStore(hub_db).enrol("bench")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    db = store.connect(work / "kiosk.db")
    next_id = 1

    # 1. sustained throughput by batch size, hub up
    hub = start_hub(hub_db, port)
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

    # 2. backlog queued during an outage, drained when the hub comes back
    fill(db, args.backlog, next_id)
    sender = Sender(db, HubClient(url, token), settings=Settings(batch_size=100, backoff_base=0.05, backoff_max=0.5,
                                                                 breaker_threshold=3, breaker_cooldown=0.5))
    stop = threading.Event()
    t = threading.Thread(target=sender.run, args=(stop,), daemon=True)
    t.start()
    time.sleep(3)  # the sender fails, backs off and opens its circuit
    failures = sender.failures
    hub = start_hub(hub_db, port)
    t_up = time.perf_counter()
    while remaining(db):
        time.sleep(0.02)
    drain = time.perf_counter() - t_up
    stop.set()
    t.join(5)
    hub.terminate()
    hub.wait()
    st = HubStore(hub_db).stats()
    print(f"\nbacklog of {args.backlog} records queued while the hub was down "
          f"({failures} failed attempts, circuit breaker open):")
    print(f"  drained in {drain:.2f} s after the hub came back = {args.backlog / drain:.0f} records/s "
          f"(target ≤ 20 s for 10 000)")
    print(f"  hub holds {st['visits']} visits (expected {next_id - 1 + args.backlog}), "
          f"{st['replays_answered']} replays answered")
    return 0 if st["visits"] == next_id - 1 + args.backlog else 1


if __name__ == "__main__":
    raise SystemExit(main())
