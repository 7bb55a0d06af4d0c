"""SIGKILL `kiosk roster import` at random points (≥ 20 times), re-run it: the roster equals a clean import."""

from __future__ import annotations

import gzip
import random
import signal
import sqlite3
import subprocess
import time

from kiosk.simulated import synthetic
from tests.conftest import kiosk_cmd

COLS = ("sin_key, card_prefix, id_key, name_key, birth_key, beneficiary_group, benefit_level, province_code, "
        "facility_code, valid_from, valid_to, five_year_date, living_area, status, replaced_by_key, "
        "replaced_by_prefix")


def snapshot_of(db_path) -> tuple:
    conn = sqlite3.connect(db_path)
    try:
        rows = conn.execute(f"SELECT {COLS} FROM roster_cards ORDER BY sin_key, card_prefix, rowid").fetchall()
        meta = conn.execute("SELECT key, value FROM meta WHERE key IN ('roster.version', 'roster.rows', "
                            "'roster.as_of') ORDER BY key").fetchall()
        idx = conn.execute("SELECT name FROM sqlite_master WHERE tbl_name = 'roster_cards' AND type = 'index' "
                           "ORDER BY name").fetchall()
        return rows, meta, idx
    finally:
        conn.close()


def progress(db_path):
    if not db_path.exists():
        return None
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute("SELECT version, state, line_no FROM roster_import").fetchone()
    except sqlite3.Error:
        return None
    finally:
        conn.close()


def after_line(db_path, f):
    p = progress(db_path)
    return p[2] if p and p[1] == "loading" and p[0] == VERSIONS[f.name] else 0


VERSIONS = {"s1.jsonl": 1, "d2.jsonl": 2, "d3.jsonl": 3, "s4.jsonl.gz": 4, "d5.jsonl": 5}


def run_import(env, path, batch=150, workers=0) -> subprocess.Popen:
    return subprocess.Popen(kiosk_cmd("roster", "import", str(path), "--batch-size", str(batch),
                                      "--workers", str(workers)), env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_sigkill_during_import_then_rerun_equals_clean_import(tmp_path, kiosk_env, data_dir):
    n = 10000
    files = [synthetic.snapshot(tmp_path / "s1.jsonl", n, version=1),
             synthetic.delta(tmp_path / "d2.jsonl", n, 3000, since=1),
             synthetic.delta(tmp_path / "d3.jsonl", n + 300, 3000, since=2, seed=8),
             synthetic.snapshot(tmp_path / "s4.jsonl.gz", n, version=4, seed=99, gz=True),
             synthetic.delta(tmp_path / "d5.jsonl", n, 3000, since=4, seed=9)]
    clean_env = dict(kiosk_env, KIOSK_DATA_DIR=str(tmp_path / "clean"))
    lines = {f: sum(1 for _ in (gzip.open(f) if f.suffix == ".gz" else open(f, "rb"))) for f in files}
    for f in files:
        p = run_import(clean_env, f)
        assert p.wait(120) == 0, p.stderr.read().decode()
    rng = random.Random(20261126)
    kills = mid_import = 0
    applied = []
    for f in files:
        for attempt in range(100):
            p = run_import(kiosk_env, f, workers=attempt % 2)  # both the in-process and the worker path
            if attempt < 10:
                # Kill once the import has gone past a random point of this file (or reached its final
                # swap), plus a random slice of a batch so kills land mid-transaction too.
                done = (after_line(data_dir / "kiosk.db", f) or 0) / lines[f]
                target = (rng.uniform(done, 0.9) if rng.random() < 0.85 else 1.0) * lines[f]
                while p.poll() is None and (after_line(data_dir / "kiosk.db", f) or 0) < min(target, lines[f] - 1):
                    time.sleep(0.002)
                time.sleep(rng.uniform(0, 0.01))
                if p.poll() is None:
                    before = progress(data_dir / "kiosk.db")
                    p.send_signal(signal.SIGKILL)
                    p.wait()
                    kills += 1
                    if before is not None and before[1] == "loading":
                        mid_import += 1
                    continue
            assert p.wait(120) == 0, p.stderr.read().decode()
            applied.append(f.name)
            if f is files[0]:  # the roster is never half-swapped
                assert snapshot_of(data_dir / "kiosk.db")[1][2] == ("roster.version", "1")
            break
    print(f"{kills} kills, {mid_import} inside an import")
    assert kills >= 20, f"only {kills} kills"
    assert mid_import >= 10, f"only {mid_import} of {kills} kills landed after the import had started work"
    assert applied == [f.name for f in files]
    assert snapshot_of(data_dir / "kiosk.db") == snapshot_of(tmp_path / "clean" / "kiosk.db")
