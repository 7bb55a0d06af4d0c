"""SIGKILL in the middle of raising stay notifications: a notification exists only with its outbox row."""

import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from kiosk import store
from kiosk.privacy import datakey
from tests.checkin.test_power_cut import check_consistent

HERE = Path(__file__).parent


def check_stays(db_path):
    db = store.connect(db_path)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    bad = db.execute("""
        SELECT count(*) FROM stay_notifications s
        WHERE s.outbox_id IS NULL
           OR (SELECT count(*) FROM outbox o WHERE o.kind = 'stay_notification' AND o.record_id = s.id) != 1
           OR NOT EXISTS (SELECT 1 FROM outbox o WHERE o.id = s.outbox_id AND o.record_id = s.id)
           OR NOT EXISTS (SELECT 1 FROM visits v WHERE v.id = s.visit_id)
    """).fetchone()[0]
    stray = db.execute("SELECT count(*) FROM outbox o WHERE o.kind = 'stay_notification' "
                       "AND NOT EXISTS (SELECT 1 FROM stay_notifications s WHERE s.id = o.record_id)").fetchone()[0]
    (stays,) = db.execute("SELECT count(*) FROM stay_notifications").fetchone()
    (visits,) = db.execute("SELECT count(*) FROM visits").fetchone()
    db.conn.close()
    assert (bad, stray) == (0, 0)
    return stays, visits


def test_sigkill_mid_stay_never_half_writes(tmp_path):
    db_path = tmp_path / "k.db"
    key_file = tmp_path / "data.key"
    key = datakey.create(key_file)
    rng = random.Random(7)
    before = 0
    for round_no in range(25):
        child = subprocess.Popen([sys.executable, str(HERE / "stay_loop.py"), str(db_path), str(key_file),
                                  str(round_no * 1000)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=HERE.parent.parent)
        assert child.stdout.readline().strip() == b"ready", child.stderr.read().decode()
        time.sleep(rng.uniform(0.005, 0.25))
        child.send_signal(signal.SIGKILL)
        child.wait()
        check_consistent(db_path)  # the foundation's visit invariants still hold
        stays, visits = check_stays(db_path)
        # Each iteration is a check-in then its stay: a kill can strand at most one visit without a stay.
        assert 0 <= visits - stays <= round_no + 1
        assert stays >= before
        before = stays
    assert before > 25, "the child should have raised notifications between kills"
    db = store.connect(db_path)
    (name,) = db.execute("SELECT full_name FROM patients LIMIT 1").fetchone()
    db.conn.close()
    assert datakey.is_sealed(name) and datakey.reveal("patients.full_name", name, key).startswith("Người Lưu ")
