"""The hub itself killed (SIGKILL of gunicorn's master and every worker) again and again while the sender
works: whatever it answered survives, and every record ends up on it exactly once.

The sender reaches the hub through tests/faultproxy.py, so each restarted hub (a new port) is behind the
same address; while the hub is dead the proxy's connections to it are refused and the sender sees its
requests cut. The proxy holds each request 50 ms (a slow link), so the outbox outlasts the kills. Sender SIGKILLs and network faults are in tests/hub/test_exactly_once.py."""

import os
import random
import signal
import threading
import time
from datetime import timedelta
from urllib.parse import urlsplit

from kiosk import store
from kiosk.services.checkin import CheckinService
from kiosk.domain import ScanEvent
from kiosk.eligibility.roster import DEMO_KEY
from sync.client import HubClient
from sync.sender import Sender, Settings
from tests.faultproxy import FaultProxy
from tests.hubproc import serve, start_hub

N = 200
KILLS = 5


def letters(i: int) -> str:
    return "".join("abcdeghikl"[int(d)] for d in str(i)).capitalize()


def kill_hub(live) -> None:
    """SIGKILL the workers, then the master: nothing gets to finish, flush or roll back cleanly."""
    for pid in live.worker_pids():
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    live.proc.send_signal(signal.SIGKILL)
    live.proc.wait()


def test_hub_sigkilled_midstream(tmp_path, clock):
    db_path = tmp_path / "kiosk.db"
    service = CheckinService(store.connect(db_path, clock=clock), facility_code="40123", roster_key=DEMO_KEY,
                             rescan_window=timedelta(0))
    for i in range(N):
        clock.advance(seconds=10)
        assert service.handle(ScanEvent(f"0403000{i:05d}||Người Hub {letters(i)}|01011980|Nam|X|03062021"
                                        .encode(), "serial")).ok
    h = start_hub(tmp_path / "hub", workers=2)
    u = urlsplit(h.url)
    proxy = FaultProxy(u.hostname, u.port, delay=0.05).start()
    db = store.connect(db_path)
    sender = Sender(db, HubClient(proxy.url, h.token), settings=Settings(batch_size=2, backoff_base=0.01,
                                                                         backoff_max=0.05, breaker_threshold=1000))
    stop = threading.Event()
    t = threading.Thread(target=sender.run, args=(stop,), daemon=True)
    t.start()
    rng = random.Random(3)
    kills, live, left = 0, h.live, []
    try:
        while sender.remaining() and kills < KILLS:
            before = sender.remaining()
            time.sleep(rng.uniform(0.1, 0.4))
            left.append(sender.remaining())
            kill_hub(live)
            kills += 1
            assert sender.remaining() <= before
            live = serve(h.env, workers=2)
            proxy.upstream_port = urlsplit(live.url).port
        end = time.monotonic() + 60
        while sender.remaining() and time.monotonic() < end:
            time.sleep(0.05)
    finally:
        stop.set()
        t.join(10)
        proxy.stop()
        live.stop()
    assert kills == KILLS and all(left), f"records left at each kill: {left}"  # every kill landed mid-work
    assert sender.remaining() == 0
    rows = h.record_ids("visit")
    assert len(rows) == N and len(set(rows)) == N
    assert db.execute("SELECT count(*) FROM outbox WHERE state = 'acknowledged'").fetchone()[0] == N
