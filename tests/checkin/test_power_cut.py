"""SIGKILL in the middle of check-ins: a visit exists only with its eligibility result and outbox row."""

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from kiosk import store
from kiosk.privacy import datakey

HERE = Path(__file__).parent


def check_consistent(db_path, key=None):
    db = store.connect(db_path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    if key is not None:  # every patient row whole and sealed under the device key, none torn
        for (name,) in db.execute("SELECT full_name FROM patients"):
            assert datakey.is_sealed(name) and datakey.reveal("patients.full_name", name, key).startswith("Người Thử ")
    orphans = db.execute("""
        SELECT count(*) FROM visits v
        WHERE (SELECT count(*) FROM eligibility_results e WHERE e.visit_id = v.id) != 1
           OR (SELECT count(*) FROM outbox o WHERE o.kind = 'visit' AND o.record_id = v.id) != 1
    """).fetchone()[0]
    stray = db.execute("SELECT count(*) FROM outbox o WHERE o.kind = 'visit' "
                       "AND NOT EXISTS (SELECT 1 FROM visits v WHERE v.id = o.record_id)").fetchone()[0]
    (visits,) = db.execute("SELECT count(*) FROM visits").fetchone()
    dupes = db.execute("SELECT count(*) FROM (SELECT visit_date, queue_number FROM visits "
                       "GROUP BY 1, 2 HAVING count(*) > 1)").fetchone()[0]
    db.conn.close()
    assert (orphans, stray, dupes) == (0, 0, 0)
    return visits


def test_sigkill_mid_checkin_never_half_writes(tmp_path):
    db_path = tmp_path / "k.db"
    key_file = tmp_path / "data.key"
    key = datakey.create(key_file)
    rng = random.Random(20261126)
    total_before = 0
    kills = 30
    for round_no in range(kills):
        child = subprocess.Popen([sys.executable, str(HERE / "checkin_loop.py"), str(db_path), str(key_file),
                                  str(round_no * 1000)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=HERE.parent.parent)
        assert child.stdout.readline().strip() == b"ready", child.stderr.read().decode()
        time.sleep(rng.uniform(0.005, 0.25))
        child.send_signal(signal.SIGKILL)
        child.wait()
        visits = check_consistent(db_path, key)
        assert visits >= total_before
        total_before = visits
    assert total_before > kills, "the child should have completed check-ins between kills"
