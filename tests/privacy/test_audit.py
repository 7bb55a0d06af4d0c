"""The audit chain: appends, and tampering found at the right entry."""

import json
import subprocess
from datetime import datetime

import pytest
from hypothesis import given, settings, strategies as st

from kiosk import store
from kiosk.privacy import audit
from kiosk.clock import VN_TZ
from tests.conftest import kiosk_cmd
from tests.hubproc import hub, kiosk_hub_server  # noqa: F401  (fixtures: a device of each test's own on the hub)

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=VN_TZ)


def _fill(db, n=8):
    for i in range(n):
        with store.transaction(db) as conn:
            audit.record(conn, actor=f"staff{i % 3}", action=audit.ACTIONS[i % 6], record_kind="visit",
                         record_id=i + 1, purpose="test", details={"i": i}, now=T0)


def _tamper(db, sql, args=()):
    conn = db.conn
    conn.execute("DROP TRIGGER audit_log_no_update")
    conn.execute("DROP TRIGGER audit_log_no_delete")
    conn.execute(sql, args)


@pytest.fixture
def db(app):
    """The kiosk's store as production opens it (kiosk.app.build: the data key and the test's clock)."""
    db = app.database()
    yield db
    db.close()


def test_intact_chain_verifies_and_entries_go_to_the_outbox(db):
    _fill(db, 5)
    v = audit.verify(db.conn)
    assert v.ok and v.entries == 5 and v.head.startswith("5:")
    rows = db.execute("SELECT record_id, payload FROM outbox WHERE kind = 'audit' ORDER BY id").fetchall()
    assert [r[0] for r in rows] == [1, 2, 3, 4, 5]
    assert json.loads(rows[4][1])["entry_hash"] == v.head.split(":")[1]


def test_record_outside_a_transaction_commits_on_its_own(db):
    audit.record(db.conn, actor="admin", action="exported", record_kind="patient", record_id=3, purpose="p")
    assert not db.conn.in_transaction and audit.verify(db.conn).ok


def test_audit_entry_rolls_back_with_its_transaction(db):
    with pytest.raises(RuntimeError):
        with store.transaction(db) as conn:
            audit.record(conn, actor="a", action="viewed", record_kind="visit", record_id=1, purpose="p")
            raise RuntimeError("the access failed")
    assert audit.entries(db.conn) == [] and audit.verify(db.conn).ok


def test_sql_update_and_delete_are_refused(db):
    _fill(db, 2)
    import sqlite3
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.conn.execute("UPDATE audit_log SET actor = 'x' WHERE seq = 1")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.conn.execute("DELETE FROM audit_log WHERE seq = 2")


def test_unknown_action_refused(db):
    with pytest.raises(ValueError):
        audit.record(db.conn, actor="a", action="looked", record_kind="visit", record_id=1, purpose="p")


FIELDS = ["at", "actor", "action", "record_kind", "record_id", "purpose", "details", "prev_hash", "entry_hash"]


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 9), data=st.data())
def test_editing_any_field_of_any_entry_is_found_at_that_entry(tmp_path_factory, n, data):
    db = store.connect(tmp_path_factory.mktemp("a") / "k.db")
    _fill(db, n)
    target = data.draw(st.integers(1, n))
    column = data.draw(st.sampled_from(FIELDS))
    old = db.execute(f"SELECT {column} FROM audit_log WHERE seq = ?", [target]).fetchone()[0]
    _tamper(db, f"UPDATE audit_log SET {column} = ? WHERE seq = ?", [old + "x", target])
    v = audit.verify(db.conn)
    assert not v.ok and v.first_broken == target, v


@settings(max_examples=20, deadline=None)
@given(n=st.integers(2, 9), data=st.data())
def test_deleting_any_entry_is_found_at_that_entry(tmp_path_factory, n, data):
    db = store.connect(tmp_path_factory.mktemp("a") / "k.db")
    _fill(db, n)
    target = data.draw(st.integers(1, n))
    _tamper(db, "DELETE FROM audit_log WHERE seq = ?", [target])
    v = audit.verify(db.conn)
    assert not v.ok and v.first_broken == target, v


@settings(max_examples=20, deadline=None)
@given(n=st.integers(3, 9), data=st.data())
def test_reordering_two_entries_is_found_at_the_first(tmp_path_factory, n, data):
    db = store.connect(tmp_path_factory.mktemp("a") / "k.db")
    _fill(db, n)
    a = data.draw(st.integers(1, n - 1))
    b = data.draw(st.integers(a + 1, n))
    cols = [c for c in FIELDS]
    ra = db.execute(f"SELECT {', '.join(cols)} FROM audit_log WHERE seq = ?", [a]).fetchone()
    rb = db.execute(f"SELECT {', '.join(cols)} FROM audit_log WHERE seq = ?", [b]).fetchone()
    sets = ", ".join(f"{c} = ?" for c in cols)
    _tamper(db, f"UPDATE audit_log SET {sets} WHERE seq = ?", [*rb, a])
    db.conn.execute(f"UPDATE audit_log SET {sets} WHERE seq = ?", [*ra, b])
    v = audit.verify(db.conn)
    assert not v.ok and v.first_broken == a, v


def test_rewritten_chain_is_caught_by_the_recorded_head_and_hub_anchors(db):
    _fill(db, 4)
    anchors = {e.seq: e.entry_hash for e in audit.entries(db.conn)}
    # An attacker rewrites entry 2 and recomputes every hash after it, but cannot change the hub's copy.
    _tamper(db, "DELETE FROM audit_log WHERE seq >= 2")
    prev = db.execute("SELECT entry_hash FROM audit_log WHERE seq = 1").fetchone()[0]
    for seq in (2, 3, 4):
        vals = [T0.isoformat(), "staff9", "viewed", "visit", str(seq), "test", "{}"]
        h = audit.entry_hash(prev, seq, *vals)
        db.conn.execute("INSERT INTO audit_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [seq, *vals, prev, h])
        prev = h
    assert audit.verify(db.conn).first_broken == 4  # the head in meta no longer matches
    v = audit.verify(db.conn, anchors=anchors)
    assert not v.ok and v.first_broken == 2


def test_truncated_tail_is_found(db):
    _fill(db, 5)
    _tamper(db, "DELETE FROM audit_log WHERE seq >= 4")
    v = audit.verify(db.conn)
    assert not v.ok and v.first_broken == 4


def test_cli_verify_names_the_broken_entry(db, kiosk_env):
    _fill(db, 6)
    ok = subprocess.run(kiosk_cmd("audit", "verify", "--json"), env=kiosk_env, capture_output=True, text=True)
    assert ok.returncode == 0 and json.loads(ok.stdout)["ok"] is True
    _tamper(db, "UPDATE audit_log SET purpose = 'nothing to see' WHERE seq = 3")
    bad = subprocess.run(kiosk_cmd("audit", "verify"), env=kiosk_env, capture_output=True, text=True)
    assert bad.returncode == 1 and "entry 3" in bad.stdout


def test_console_views_are_audited(cli_env, privacy_cfg):
    from tests.privacy.conftest import person
    out = subprocess.run(kiosk_cmd("checkin", "--payload", person(0)["payload"], "--json"), env=cli_env,
                         capture_output=True, text=True)
    visit = json.loads(out.stdout)
    shown = subprocess.run(kiosk_cmd("visits", "--date", visit["visit_date"]), env=cli_env, capture_output=True,
                           text=True)
    assert shown.returncode == 0 and person(0)["name"] in shown.stdout
    db = store.connect(privacy_cfg.database)
    (e,) = [e for e in audit.entries(db.conn) if e.action == "viewed"]
    assert e.record_kind == "visits_of_day" and e.record_id == visit["visit_date"] and e.actor.startswith("os:")
    assert json.loads(e.details)["visit_ids"] == [visit["visit_id"]]
    assert audit.verify(db.conn).ok


# --- issue 13 item 3: the hub's copies catch a log cut short, even with audit.head rewritten -------------------

def _synced_kiosk(cli_env, privacy_cfg, tmp_path, h, n=10):
    """n audit entries written on the kiosk, synced to a real hub over loopback; returns the anchors file
    (`kiosk-hub audit --json`)."""
    from kiosk.privacy import datakey
    db = store.connect(privacy_cfg.database, key=datakey.load(privacy_cfg))
    for i in range(n):
        audit.record(db.conn, actor="staff:1", action="viewed", record_kind="visit", record_id=i + 1,
                     purpose="test")
    db.conn.close()
    sync = subprocess.run(kiosk_cmd("sync", "once", "--hub", h.url, "--token-file", str(h.token_file), "--json"),
                          env=cli_env, capture_output=True, text=True)
    assert sync.returncode == 0, sync.stderr
    view = h.cli("audit", "--name", h.name, "--json")
    assert view.returncode == 0, view.stderr
    data = json.loads(view.stdout)
    assert data["ok"] and data["entries"] == n and data["highest_seq"] == n
    path = tmp_path / "anchors.json"
    path.write_text(view.stdout)
    return path


def _verify_with(cli_env, anchors):
    r = subprocess.run(kiosk_cmd("audit", "verify", "--anchors", str(anchors), "--json"), env=cli_env,
                       capture_output=True, text=True)
    return r.returncode, json.loads(r.stdout)


def _cut(privacy_cfg, from_seq):
    """What root can do on the device: delete entries from_seq.. and rewrite the head to the new end."""
    db = store.connect(privacy_cfg.database)
    _tamper(db, "DELETE FROM audit_log WHERE seq >= ?", [from_seq])
    last = db.execute("SELECT seq, entry_hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
    if last:
        db.conn.execute("UPDATE meta SET value = ? WHERE key = ?", [f"{last[0]}:{last[1]}", audit.HEAD_META_KEY])
    else:
        db.conn.execute("DELETE FROM meta WHERE key = ?", [audit.HEAD_META_KEY])
    db.conn.close()


def test_untouched_log_verifies_against_the_hubs_highest_seq(cli_env, privacy_cfg, tmp_path, hub):
    anchors = _synced_kiosk(cli_env, privacy_cfg, tmp_path, hub)
    code, verdict = _verify_with(cli_env, anchors)
    assert code == 0 and verdict["ok"] is True and verdict["entries"] >= 10, verdict


def test_tail_cut_with_head_rewritten_fails_against_the_hub(cli_env, privacy_cfg, tmp_path, hub):
    anchors = _synced_kiosk(cli_env, privacy_cfg, tmp_path, hub)
    _cut(privacy_cfg, 5)
    plain = subprocess.run(kiosk_cmd("audit", "verify", "--json"), env=cli_env, capture_output=True, text=True)
    assert plain.returncode == 0 and json.loads(plain.stdout)["entries"] == 4  # locally a perfect forgery
    code, verdict = _verify_with(cli_env, anchors)
    assert code == 1 and verdict["ok"] is False and verdict["first_broken"] == 5, verdict
    assert "up to 10" in verdict["problem"] and "5..10" in verdict["problem"]
    human = subprocess.run(kiosk_cmd("audit", "verify", "--anchors", str(anchors)), env=cli_env,
                           capture_output=True, text=True)
    assert human.returncode == 1 and "deleted" in human.stdout


def test_whole_log_deleted_fails_against_the_hub(cli_env, privacy_cfg, tmp_path, hub):
    anchors = _synced_kiosk(cli_env, privacy_cfg, tmp_path, hub)
    _cut(privacy_cfg, 1)
    code, verdict = _verify_with(cli_env, anchors)
    assert code == 1 and verdict["ok"] is False and verdict["entries"] == 0 and verdict["first_broken"] == 1, verdict


def test_highest_seq_alone_catches_a_cut(db):
    """An anchors file with no per-entry anchors (a hub that only reports its highest entry) still catches it."""
    _fill(db, 6)
    _tamper(db, "DELETE FROM audit_log WHERE seq >= 4")
    h3 = db.execute("SELECT entry_hash FROM audit_log WHERE seq = 3").fetchone()[0]
    db.conn.execute("UPDATE meta SET value = ? WHERE key = ?", [f"3:{h3}", audit.HEAD_META_KEY])
    assert audit.verify(db.conn).ok
    assert audit.verify(db.conn, highest_seq=3).ok
    v = audit.verify(db.conn, highest_seq=6)
    assert not v.ok and v.first_broken == 4 and "4..6" in v.problem


@pytest.mark.parametrize("bad", ['{"anchors": {}, "highest_seq": "ten"}', '{"anchors": {}, "highest_seq": -1}',
                                 '{"anchors": {"1": "zz"}}', '[1, 2]'])
def test_a_malformed_anchors_file_is_bad_input(db, kiosk_env, tmp_path, bad):
    _fill(db, 1)
    f = tmp_path / "a.json"
    f.write_text(bad)
    r = subprocess.run(kiosk_cmd("audit", "verify", "--anchors", str(f)), env=kiosk_env, capture_output=True, text=True)
    assert r.returncode == 2 and "--anchors" in r.stderr
