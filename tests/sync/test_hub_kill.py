"""The hub itself killed (SIGKILL) again and again while the sender works: whatever it answered survives,
and every record ends up on it exactly once."""

import random
import signal
import socket
import sqlite3
import subprocess
import threading
import time
from datetime import timedelta

from kiosk import store
from kiosk.checkin import CheckinService
from kiosk.domain import ScanEvent
from kiosk.roster import DEMO_KEY
from sync.client import HubClient
from sync.sender import Sender, Settings
from tests.sync.conftest import start_hub
from tests.sync.test_fault_kill import letters

N = 200


def test_hub_sigkilled_midstream(tmp_path, clock):
    db_path = tmp_path / "kiosk.db"
    service = CheckinService(db_path, facility_code="40123", roster_key=DEMO_KEY, rescan_window=timedelta(0),
                             clock=clock)
    for i in range(N):
        clock.advance(seconds=10)
        assert service.handle(ScanEvent(f"0403000{i:05d}||Người Hub {letters(i)}|01011980|Nam|X|03062021"
                                        .encode(), "serial")).ok
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    h = start_hub(tmp_path / "hub", port=port)
    db = store.connect(db_path)
    sender = Sender(db, HubClient(h.url, h.token), settings=Settings(batch_size=3, backoff_base=0.01,
                                                                       backoff_max=0.05, breaker_threshold=1000))
    stop = threading.Event()
    t = threading.Thread(target=sender.run, args=(stop,), daemon=True)
    t.start()
    rng = random.Random(3)
    kills = 0
    try:
        while sender.remaining() and kills < 15:
            time.sleep(rng.uniform(0.1, 0.4))
            h.proc.send_signal(signal.SIGKILL)
            h.proc.wait()
            kills += 1
            h = start_hub(tmp_path / "hub", port=port)
        end = time.monotonic() + 60
        while sender.remaining() and time.monotonic() < end:
            time.sleep(0.05)
    finally:
        stop.set()
        t.join(10)
        h.stop()
    assert kills >= 5
    assert sender.remaining() == 0
    hub = sqlite3.connect(h.db)
    rows = hub.execute("SELECT record_id FROM visits").fetchall()
    assert len(rows) == N and len(set(rows)) == N
    assert db.execute("SELECT count(*) FROM outbox WHERE state = 'acknowledged'").fetchone()[0] == N
