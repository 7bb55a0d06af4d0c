"""SIGTERM (systemctl stop, a reboot) stops `kiosk run` cleanly: exit 0, every visit that was
recorded is whole — with its outbox row — and the database passes its integrity check.
The scanner is a real pseudo-terminal, as in the serial scanner tests."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time

import pytest

from kiosk.simulated import demo
from tests.conftest import kiosk_cmd


def _visits(env) -> list[dict]:
    r = subprocess.run(kiosk_cmd("visits", "--json"), env=env, capture_output=True, text=True, timeout=60)
    return json.loads(r.stdout) if r.returncode == 0 and r.stdout.strip() else []


def test_sigterm_during_scans_loses_nothing_recorded(tmp_path, kiosk_env, data_dir):
    pytest.importorskip("PySide6")
    master, slave = os.openpty()
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'[scanner]\nkind = "serial"\nport = "{os.ttyname(slave)}"\n[ui]\nconsole = false\n',
                   encoding="utf-8")
    env = dict(kiosk_env, KIOSK_CONFIG=str(cfg), QT_QPA_PLATFORM="offscreen")
    proc = subprocess.Popen(kiosk_cmd("run"), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline and not _visits(env):
            os.write(master, demo.ELIGIBLE_CCCD.encode() + b"\r\n")
            time.sleep(1.5)
        first = _visits(env)
        assert len(first) == 1, proc.stderr.read() if proc.poll() is not None else "no visit recorded"
        # A second patient scans, and the kiosk is stopped at that very moment.
        os.write(master, demo.EXPIRED_CCCD.encode() + b"\r\n")
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=20)
        assert rc == 0, proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
        os.close(slave)
    after = _visits(env)
    assert len(after) in (1, 2)
    assert after[0]["visit_id"] == first[0]["visit_id"] and after[0]["queue_number"] == first[0]["queue_number"]
    conn = sqlite3.connect(data_dir / "kiosk.db")
    try:
        assert conn.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        # No visit without its outbox row: each was written in one transaction or not at all.
        orphans = conn.execute("SELECT count(*) FROM visits v WHERE NOT EXISTS "
                               "(SELECT 1 FROM outbox o WHERE o.kind = 'visit' AND o.record_id = v.id)").fetchone()[0]
        assert orphans == 0
    finally:
        conn.close()
