"""Roster and eligibility at province scale (issue 6).

Generates a synthetic roster of N cards (default 3.4 million, Nghệ An) to a
temp directory, then measures in one run:

- baseline: a bare SQLite table with the same rows in clear (no validation,
  no hashing), loaded with executemany and indexed by ID and card number,
  and its indexed lookup latency;
- `kiosk roster import` of the snapshot (a child process: wall time and peak
  RSS), database size on disk;
- a 1% delta (N/100 changes) applied with `kiosk roster import`;
- a complete eligibility answer (`kiosk.eligibility.check`: keyed hash,
  lookup, rules) by ID number and by card number, cold (file pages dropped
  from the OS cache with posix_fadvise, new connection) and warm.

    .venv/bin/python bench/roster.py [--cards N] [--lookups K] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kiosk import eligibility, store  # noqa: E402
from kiosk.store.roster import cards as roster_cards  # noqa: E402
from kiosk.domain import PersonIdentity  # noqa: E402
from kiosk.simulated import synthetic  # noqa: E402
from kiosk.eligibility.roster import DEMO_KEY  # noqa: E402


def kiosk(*args: str, data_dir: Path) -> tuple[float, int, str]:
    """Run `kiosk ...` as a child; (seconds, peak RSS of the child in MB, stdout)."""
    exe = Path(sys.executable).with_name("kiosk")
    env = dict(os.environ, KIOSK_DATA_DIR=str(data_dir))
    env.pop("KIOSK_CONFIG", None)
    t0 = time.monotonic()
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    p = subprocess.run([str(exe), *args], env=env, capture_output=True, text=True)
    dt = time.monotonic() - t0
    if p.returncode != 0:
        raise SystemExit(f"kiosk {' '.join(args)} failed: {p.stderr}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the max over all children so far; the import is the biggest child we run.
    return dt, max(peak, before) // 1024, p.stdout


def baseline(snapshot: Path, db_path: Path, probes_id: list[str], probes_card: list[str]) -> dict:
    conn = sqlite3.connect(db_path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE cards (card_number TEXT, id_number TEXT, sin TEXT, full_name TEXT, dob TEXT, "
                  "grp TEXT, level INTEGER, province TEXT, facility TEXT, valid_from TEXT, valid_to TEXT, "
                  "five_year TEXT, living_area TEXT, status TEXT, replaced_by TEXT)")
    t0 = time.monotonic()
    conn.execute("BEGIN")
    batch = []
    ins = "INSERT INTO cards VALUES (" + ",".join("?" * 15) + ")"
    with open(snapshot, "rb") as f:
        f.readline()
        for line in f:
            r = orjson.loads(line)
            batch.append((r["card_number"], r["id_number"], r["social_insurance_number"], r["full_name"],
                          r["date_of_birth"], r["beneficiary_group"], r["benefit_level"], r["province_code"],
                          r["facility_code"], r["valid_from"], r["valid_to"], r["five_year_date"], r["living_area"],
                          r["status"], r["replaced_by"]))
            if len(batch) >= 50000:
                conn.executemany(ins, batch)
                batch = []
    conn.executemany(ins, batch)
    conn.execute("CREATE INDEX cards_id ON cards(id_number)")
    conn.execute("CREATE INDEX cards_card ON cards(card_number)")
    conn.execute("COMMIT")
    load = time.monotonic() - t0
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    size = db_path.stat().st_size
    lat = []
    for ident in probes_id:
        t = time.perf_counter_ns()
        conn.execute("SELECT * FROM cards WHERE id_number = ?", [ident]).fetchall()
        lat.append(time.perf_counter_ns() - t)
    conn.close()
    return {"load_s": load, "size_mb": size / 1e6, "lookup_id_us": pct(lat)}


def pct(ns: list[int]) -> dict:
    s = sorted(ns)
    return {"p50": s[len(s) // 2] / 1000, "p99": s[int(len(s) * 0.99)] / 1000, "n": len(s)}


def drop_cache(path: Path) -> None:
    for p in path.parent.glob(path.name + "*"):
        fd = os.open(p, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def latency(db_path: Path, idents: list[PersonIdentity], day: date) -> tuple[dict, dict, list[str]]:
    drop_cache(db_path)
    db = store.connect(db_path, migrate_now=False)
    cards = roster_cards(db)
    codes = []
    cold, warm = [], []
    for ident in idents:
        t = time.perf_counter_ns()
        e = eligibility.check(cards, DEMO_KEY, ident, day, "40123")
        cold.append(time.perf_counter_ns() - t)
        codes.append(e.result_code)
    for ident in idents:
        t = time.perf_counter_ns()
        eligibility.check(cards, DEMO_KEY, ident, day, "40123")
        warm.append(time.perf_counter_ns() - t)
    db.close()
    return pct(cold), pct(warm), codes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cards", type=int, default=3_400_000)
    ap.add_argument("--lookups", type=int, default=5000)
    ap.add_argument("--keep", metavar="DIR", help="work in DIR and keep it (default: a temp dir, removed)")
    a = ap.parse_args()
    work = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="roster-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    n = a.cards
    print(f"# roster benchmark: {n} cards, work dir {work}")
    print(f"# machine: {os.uname().machine}, {os.cpu_count()} CPUs, load average at start {os.getloadavg()}")
    try:
        t0 = time.monotonic()
        snap = synthetic.snapshot(work / "snapshot.jsonl", n, version=1)
        print(f"generated snapshot: {snap.stat().st_size / 1e6:.0f} MB in {time.monotonic() - t0:.1f} s")
        delta_n = max(1, n // 100)
        delta = synthetic.delta(work / "delta.jsonl", n, delta_n, since=1)
        rng = random.Random(1)
        sample = [rng.randrange(n) for _ in range(a.lookups)]
        by_id = [PersonIdentity("bench", "", None, id_number=f"040{i:09d}") for i in sample]
        by_card = [PersonIdentity("bench", "", None, card_number=synthetic.card_number(i)) for i in sample]

        base = baseline(snap, work / "bare.db", [p.id_number for p in by_id], [])
        print(f"baseline bare SQLite table: load+index {base['load_s']:.1f} s, {base['size_mb']:.0f} MB, "
              f"indexed lookup by ID p50 {base['lookup_id_us']['p50']:.1f} µs p99 {base['lookup_id_us']['p99']:.1f} µs")
        (work / "bare.db").unlink()

        data = work / "data"
        secs, rss, out = kiosk("roster", "import", str(snap), "--json", data_dir=data)
        rep = orjson.loads(out)
        db_path = data / "kiosk.db"
        size = sum(p.stat().st_size for p in data.glob("kiosk.db*"))
        print(f"kiosk roster import (snapshot): {secs:.1f} s wall (final swap + indexes {rep['finish_seconds']:.1f} s), "
              f"peak RSS {rss} MB, database {size / 1e6:.0f} MB")

        dsecs, _, out = kiosk("roster", "import", str(delta), "--json", data_dir=data)
        rep = orjson.loads(out)
        print(f"kiosk roster import (delta of {delta_n} changes: {rep['cards']} upserts, {rep['deleted']} deletes): "
              f"{dsecs:.2f} s wall (in-process {rep['seconds']:.2f} s)")

        day = date(2026, 6, 1)
        for label, idents in (("ID number", by_id), ("card number", by_card)):
            cold, warm, codes = latency(db_path, idents, day)
            found = sum(c != "K02" for c in codes)
            print(f"eligibility by {label}: cold p50 {cold['p50']:.0f} µs p99 {cold['p99']:.0f} µs; "
                  f"warm p50 {warm['p50']:.0f} µs p99 {warm['p99']:.0f} µs ({found}/{len(codes)} on the roster)")
        print(f"# load average at end {os.getloadavg()}")
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
