"""The cost of privacy (issue 10): check-in latency with identity fields sealed vs in clear, field
crypto per value, retention with VACUUM, backup, and roster import with the data-key hook in the CLI.

Every comparison runs in the same process, alternating sealed and clear check-ins in batches so
the machine's background load hits both alike.

    .venv/bin/python bench/privacy.py [--checkins N] [--visits V] [--roster-cards C]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kiosk import config, store  # noqa: E402
from kiosk.privacy import datakey
from kiosk.simulated import demo
from kiosk.privacy import retention
from kiosk.services.checkin import CheckinService  # noqa: E402
from kiosk.clock import VN_TZ, FixedClock, iso_utc  # noqa: E402
from kiosk.domain import ScanEvent  # noqa: E402
from kiosk.eligibility.roster import DEMO_KEY  # noqa: E402


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def payload(i: int) -> bytes:
    given = ["Thị Hồng Nhung", "Văn Quyết", "Minh Châu", "Thị Thu Hương", "Đức Thắng"][i % 5]
    letters = "".join("abcdeghikl"[int(d)] for d in str(i))
    return (f"0401950{i % 100000:05d}||Nguyễn {given} {letters.capitalize()}|12051995|Nữ|"
            f"Xóm {i % 9}, Xã Nghi Phong, Huyện Nghi Lộc, Nghệ An|03062021").encode()


def checkin_latency(n: int, work: Path) -> dict:
    clock = FixedClock(datetime(2026, 11, 26, 8, 0, tzinfo=VN_TZ))
    key = datakey.DataKey(os.urandom(32))
    services = {}
    for mode in ("clear", "sealed"):
        (work / mode).mkdir()
        db = store.connect(work / mode / "kiosk.db", key=key if mode == "sealed" else None, clock=clock)
        s = CheckinService(db, facility_code="40123", roster_key=DEMO_KEY, rescan_window=timedelta(0))
        demo.seed_roster(s.db, DEMO_KEY, clock.now().date(), "40123")
        services[mode] = s
    times = {"clear": [], "sealed": []}
    batch = 50
    for start in range(0, n, batch):
        for mode in ("clear", "sealed") if (start // batch) % 2 == 0 else ("sealed", "clear"):
            for i in range(start, min(n, start + batch)):
                t = time.perf_counter()
                r = services[mode].handle(ScanEvent(payload(i), "serial"))
                times[mode].append((time.perf_counter() - t) * 1000)
                assert r.ok, r
        clock.advance(seconds=1)
    out = {m: {"n": len(ts), "p50": statistics.median(ts), "p95": pct(ts, 95), "p99": pct(ts, 99), "max": max(ts)}
           for m, ts in times.items()}
    for mode, s in services.items():
        s.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        out[mode]["db_bytes"] = (work / mode / "kiosk.db").stat().st_size
    return out


def field_crypto(k: int = 20000) -> dict:
    key = datakey.DataKey(os.urandom(32))
    name = "Nguyễn Thị Hồng Nhung"
    t = time.perf_counter()
    sealed = [key.seal(name, "patients.full_name") for _ in range(k)]
    seal_us = (time.perf_counter() - t) / k * 1e6
    t = time.perf_counter()
    for s in sealed:
        key.open(s, "patients.full_name")
    open_us = (time.perf_counter() - t) / k * 1e6
    t = time.perf_counter()
    for i in range(k):
        key.identity_key(f"0401950{i:05d}", None)
    hash_us = (time.perf_counter() - t) / k * 1e6
    t = time.perf_counter()
    for _ in range(200):
        datakey.DataKey(os.urandom(32))
    derive_us = (time.perf_counter() - t) / 200 * 1e6
    return {"seal_us": seal_us, "open_us": open_us, "keyed_hash_us": hash_us, "key_load_us": derive_us,
            "sealed_len": len(sealed[0]), "clear_len": len(name.encode())}


def retention_and_backup(visits: int, work: Path) -> dict:
    (work / "ret").mkdir()
    toml = work / "ret.toml"
    toml.write_text(f'[storage]\ndata_dir = "{work / "ret"}"\n[privacy]\ndata_key_file = "{work / "ret.key"}"\n')
    datakey.create(work / "ret.key")
    cfg = config.load(str(toml), None, env={})
    key = datakey.load(cfg)
    now = datetime(2026, 11, 26, 8, 0, tzinfo=VN_TZ)
    clock = FixedClock(now - timedelta(days=180))
    s = CheckinService(store.connect(cfg.database, key=key, clock=clock), facility_code="40123", roster_key=DEMO_KEY,
                       rescan_window=timedelta(0))
    step = int(180 * 86400 * 0.95 / visits)  # spread over the 180 days before now
    for i in range(visits):
        clock.advance(seconds=step)
        assert s.handle(ScanEvent(payload(i), "serial")).ok
    db = s.db
    with store.transaction(db) as conn:  # the hub acknowledged everything but the last 10 %
        conn.execute("UPDATE outbox SET state = 'acknowledged', acknowledged_at = ?, payload = '{}' "
                     "WHERE id <= ?", [iso_utc(now), int(visits * 0.9)])
    from kiosk.store import backup
    t = time.perf_counter()
    info = backup.write_backup(db.conn, key, os.urandom(32), work / "b.tkb")
    backup_s = time.perf_counter() - t
    t = time.perf_counter()
    rep = retention.run(db, cfg, now)
    ret_s = time.perf_counter() - t
    return {"visits": visits, "purged": rep.visits_purged, "kept_unsynced": rep.kept_unsynced,
            "seconds": ret_s, "bytes_before": rep.bytes_before, "bytes_after": rep.bytes_after,
            "backup_seconds": backup_s, "backup_bytes": info["bytes"]}


def roster_import(cards: int, work: Path) -> dict | None:
    script = ROOT / "bench" / "roster.py"
    if not script.exists():
        return None
    t = time.perf_counter()
    r = subprocess.run([sys.executable, str(script), "--cards", str(cards), "--lookups", "200"],
                       capture_output=True, text=True, cwd=ROOT)
    return {"cards": cards, "seconds": time.perf_counter() - t, "returncode": r.returncode,
            "output": r.stdout[-3000:], "stderr": r.stderr[-500:]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--checkins", type=int, default=1000)
    ap.add_argument("--visits", type=int, default=10000)
    ap.add_argument("--roster-cards", type=int, default=0, help="also run bench/roster.py with this many cards")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        res = {"checkin_ms": checkin_latency(a.checkins, work), "field": field_crypto(),
               "retention": retention_and_backup(a.visits, work)}
        if a.roster_cards:
            res["roster"] = roster_import(a.roster_cards, work)
    print(json.dumps(res, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
