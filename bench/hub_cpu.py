"""CPU time per record of the hub's device API: what the hub's worker and PostgreSQL's backends spend.

    .venv/bin/python bench/hub_cpu.py [--engines postgres,sqlite] [--batches 15] [--singles 100]
    PYTHONPATH=/tmp/old/hub .venv/bin/python bench/hub_cpu.py   # another commit's kiosk_hub (git archive C hub)

Wall-clock numbers on a shared machine move with everyone else's load (docs/benchmarks.md, "Hub load");
CPU seconds charged to the hub's own processes move much less, so this compares two versions of the hub
fairly. One `kiosk-hub serve --workers 1` per engine (8 threads), 4 client threads, 8 enrolled kiosks:
- batches: POST /v1/batch with 100 new visits each (4 x --batches requests);
- singles: POST /v1/visits with one visit, then POST /v1/heartbeat (4 x --singles of each).
The CPU is read from /proc (utime + stime) of the hub's worker and, on PostgreSQL, of every child of the
postmaster (the backends serving the worker, plus the server's own background processes), before and
after each phase; a warm-up phase is not counted. Synthetic people only (tests/hub/test_api.visit).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402

from tests.hub.conftest import HubEnv, _prepare, start_hub  # noqa: E402
from tests.hub.pg import PgCluster, find_bin  # noqa: E402
from tests.hub.test_api import HEARTBEAT, visit  # noqa: E402

CLIENTS = 4


def _cpu(pid: int) -> float:
    f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def _children(ppid: int) -> list[int]:
    out = []
    for st in Path("/proc").glob("[0-9]*/stat"):
        try:
            f = st.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(f[1]) == ppid:
            out.append(int(st.parent.name))
    return out


def _charged(parents: list[int]) -> float:
    s = 0.0
    for pid in (p for pp in parents for p in _children(pp)):
        try:
            s += _cpu(pid)
        except OSError:
            pass
    return s


def measure(engine: str, batches: int, singles: int) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="hub-cpu-"))
    (tmp / "data").mkdir(mode=0o700)
    cluster = None
    if engine == "postgres":
        bindir = find_bin()
        if bindir is None:
            raise SystemExit("PostgreSQL is not installed (/usr/lib/postgresql/*/bin/initdb)")
        cluster = PgCluster(bindir).init()
        hub = HubEnv("postgres", tmp / "data", cluster.create_db("hub_cpu"), cluster)
        parents = [int((cluster.data / "postmaster.pid").read_text().split()[0])]
    else:
        hub = HubEnv("sqlite", tmp / "data", f"sqlite:///{tmp / 'data' / 'hub.db'}")
        parents = []
    live = None
    try:
        _prepare(hub)
        live = start_hub(hub, workers=1)
        parents.append(live.proc.pid)
        sessions = []
        for _ in range(CLIENTS):
            s = requests.Session()
            s.headers["Authorization"] = f"Bearer {hub.enrol()[1]}"
            sessions.append(s)
        ids = iter(range(1, 10 ** 9))
        lock = threading.Lock()

        def batch(s: requests.Session) -> None:
            with lock:
                rids = [next(ids) for _ in range(100)]
            items = [{"kind": "visit", "idempotency_key": str(uuid.uuid4()), "body": visit(r)} for r in rids]
            r = s.post(live.url + "/v1/batch", json={"items": items}, timeout=120,
                       headers={"Idempotency-Key": str(uuid.uuid4())})
            assert r.status_code == 200 and all(x["status"] == 201 for x in r.json()["results"]), r.text[:300]

        def single(s: requests.Session) -> None:
            with lock:
                rid = next(ids)
            r = s.post(live.url + "/v1/visits", json=visit(rid), timeout=120,
                       headers={"Idempotency-Key": str(uuid.uuid4())})
            assert r.status_code == 201, r.text[:300]
            r = s.post(live.url + "/v1/heartbeat", json=HEARTBEAT, timeout=120)
            assert r.status_code == 200, r.text[:300]

        def phase(fn, n: int) -> tuple[float, float]:
            threads = [threading.Thread(target=lambda s=s: [fn(s) for _ in range(n)]) for s in sessions]
            c0, t0 = _charged(parents), time.monotonic()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            return _charged(parents) - c0, time.monotonic() - t0

        phase(batch, 2)
        phase(single, 5)
        cb, wb = phase(batch, batches)
        cs, ws = phase(single, singles)
        nb, ns = CLIENTS * batches * 100, CLIENTS * singles
        return {"engine": engine, "batch_records": nb, "batch_cpu_ms_per_record": round(cb * 1000 / nb, 3),
                "batch_wall_s": round(wb, 2), "singles": ns,
                "single_cpu_ms_per_visit_and_heartbeat": round(cs * 1000 / ns, 2), "single_wall_s": round(ws, 2),
                "loadavg": [round(x, 2) for x in os.getloadavg()]}
    finally:
        if live is not None:
            live.stop()
        if cluster is not None:
            cluster.destroy()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--engines", default="postgres,sqlite")
    ap.add_argument("--batches", type=int, default=15, help="batches of 100 per client thread")
    ap.add_argument("--singles", type=int, default=100, help="visit + heartbeat pairs per client thread")
    a = ap.parse_args(argv)
    import kiosk_hub
    print(f"kiosk_hub from {Path(kiosk_hub.__file__).parent}", flush=True)
    for e in (x.strip() for x in a.engines.split(",") if x.strip()):
        print(json.dumps(measure(e, a.batches, a.singles)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
