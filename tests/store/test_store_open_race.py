"""Issue 13 item 6: kiosk processes opening one database at once (the UI and kiosk-sync at boot).

Real processes (multiprocessing, spawn) released together by a barrier open the same fresh database:
connecting, switching to WAL and migrating must wait for each other, never fail with "database is locked",
and exactly one of them applies the migrations.
"""

from __future__ import annotations

import multiprocessing as mp
import sqlite3
import time

from kiosk import store

PROCESSES = 8


def _opener(root: str, rounds: int, barrier, results) -> None:
    import logging
    logging.disable(logging.CRITICAL)
    from kiosk import store as st
    for n in range(rounds):
        try:
            barrier.wait(60)
        except Exception as e:  # a broken barrier: another worker died
            results.put((n, "barrier", repr(e)))
            return
        try:
            db = st.connect(f"{root}/round-{n}.db", migrate_now=False)
            mine = bool(st.migrate(db))  # what connect() does; says whether this process applied them
            version = db.execute("PRAGMA user_version").fetchone()[0]
            mode = db.execute("PRAGMA journal_mode").fetchone()[0]
            db.conn.close()
            results.put((n, "ok", (version, mode, mine)))
        except Exception as e:
            results.put((n, "error", f"{type(e).__name__}: {e}"))


def _race(tmp_path, rounds: int) -> list[tuple]:
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(PROCESSES)
    results = ctx.Queue()
    procs = [ctx.Process(target=_opener, args=(str(tmp_path), rounds, barrier, results)) for _ in range(PROCESSES)]
    for p in procs:
        p.start()
    out = []
    deadline = time.monotonic() + 60 + rounds * 5
    while len(out) < PROCESSES * rounds and time.monotonic() < deadline:
        try:
            out.append(results.get(timeout=5))
        except Exception:
            if not any(p.is_alive() for p in procs):
                break
    for p in procs:
        p.join(10)
        if p.is_alive():
            p.kill()
    return out


def _check(out: list[tuple], rounds: int) -> None:
    errors = [r for r in out if r[1] != "ok"]
    assert not errors, f"{len(errors)} of {len(out)} opens failed, e.g. {errors[:3]}"
    assert len(out) == PROCESSES * rounds
    latest = store.all_migrations()[-1][0]
    for n in range(rounds):
        got = [r[2] for r in out if r[0] == n]
        assert all(version == latest and mode == "wal" for version, mode, _ in got), got
        # Exactly one process of each round applied the migrations; the others waited and found them done.
        assert sum(1 for _, _, mine in got if mine) == 1, got


def test_eight_processes_open_one_fresh_database_fifty_rounds(tmp_path):
    rounds = 50  # ~4 s on 2 cores
    _check(_race(tmp_path, rounds), rounds)


def test_open_waits_for_a_process_holding_the_lock(tmp_path):
    """Another process holds an exclusive lock on the fresh database (not yet WAL) while this one opens it:
    switching to WAL and migrating wait for the lock instead of failing with "database is locked"."""
    holder = sqlite3.connect(str(tmp_path / "round-0.db"), isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("CREATE TABLE boot_marker (x)")
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    barrier = ctx.Barrier(1)  # kept referenced until the child has unpickled it
    p = ctx.Process(target=_opener, args=(str(tmp_path), 1, barrier, results))
    p.start()
    try:
        time.sleep(2.0)
        assert results.empty(), f"the opener did not wait for the lock: {results.get()}"
    finally:
        holder.execute("COMMIT")
        holder.close()
    n, status, detail = results.get(timeout=30)
    p.join(10)
    assert status == "ok", detail
    assert detail[0] == store.all_migrations()[-1][0] and detail[1] == "wal"
