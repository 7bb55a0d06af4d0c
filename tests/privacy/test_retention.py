"""Retention around its boundaries, with synced and unsynced records: unsynced data is never lost,
expired synced data is gone — from the b-tree and from the bytes of the database and its WAL."""

import json
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from kiosk import store
from kiosk.privacy import audit
from kiosk.privacy import retention
from kiosk.services import stay_notification as sn
from kiosk.app import build
from kiosk.clock import FixedClock, VN_TZ, iso_utc
from kiosk.domain import ScanEvent
from tests.privacy.conftest import person

NOW = datetime(2026, 11, 26, 9, 30, tzinfo=VN_TZ)
DAYS = 90  # the default privacy.visit_retention_days and stay_notification_retention_days


def ack(conn, kind, record_id, at=NOW):
    # What the sender does on the hub's acknowledgement.
    conn.execute("UPDATE outbox SET state = 'acknowledged', acknowledged_at = ?, payload = '{}' "
                 "WHERE kind = ? AND record_id = ?", [iso_utc(at), kind, record_id])
    if kind == sn.KIND:
        sn.mark_acknowledged(conn, [(record_id, "hub-1")], iso_utc(at))


def checkin_at(service, clock, i, when):
    clock.set(when)
    v = service.handle(ScanEvent(person(i)["payload"].encode(), "serial"))
    assert v.ok and not v.existing, v
    return v.visit_id


def raw(cfg):
    return b"".join(p.read_bytes() for p in (cfg.database, cfg.database.with_name("kiosk.db-wal")) if p.exists())


def sealed_name(db, visit_id):
    return db.execute("SELECT p.full_name FROM visits v JOIN patients p ON p.id = v.patient_id WHERE v.id = ?",
                      [visit_id]).fetchone()[0]


def test_purges_only_expired_acknowledged_records_and_their_bytes(privacy_cfg):
    clock = FixedClock(NOW)
    service = build(privacy_cfg, "none", clock=clock).checkin_service()
    db = service.db
    old = NOW - timedelta(days=DAYS, hours=1)
    young = NOW - timedelta(days=DAYS) + timedelta(hours=1)
    v = {
        "acked_old": checkin_at(service, clock, 0, old),
        "unsynced_old": checkin_at(service, clock, 1, old),
        "acked_young": checkin_at(service, clock, 2, young),
        "stay_done_old": checkin_at(service, clock, 3, old),
        "stay_open_old": checkin_at(service, clock, 4, old),
        "repeat_old": checkin_at(service, clock, 5, old),
        "in_flight_old": checkin_at(service, clock, 6, old),
        "manual_old": checkin_at(service, clock, 7, old),
    }
    clock.set(old)
    done = sn.start(db, v["stay_done_old"], "theo dõi sau sinh", clock=clock, facility_code="40123",
                    address_of_stay="Trạm Y tế xã Mẫu")
    sn.start(db, v["stay_open_old"], "theo dõi sau sinh", clock=clock, facility_code="40123",
             address_of_stay="Trạm Y tế xã Mẫu")
    v["repeat_young"] = checkin_at(service, clock, 5, young)
    with store.transaction(db) as conn:
        for k in ("acked_old", "acked_young", "stay_done_old", "stay_open_old", "repeat_old", "repeat_young"):
            ack(conn, "visit", v[k])
        ack(conn, sn.KIND, done.id)
        conn.execute("UPDATE outbox SET state = 'sent' WHERE kind = 'visit' AND record_id = ?", [v["in_flight_old"]])
        conn.execute("UPDATE outbox SET state = 'needs_manual' WHERE kind = 'visit' AND record_id = ?",
                     [v["manual_old"]])
    gone_name = sealed_name(db, v["acked_old"])
    kept_name = sealed_name(db, v["unsynced_old"])
    assert gone_name.encode() in raw(privacy_cfg)

    # A dry run counts, changes nothing.
    dry = retention.run(db, privacy_cfg, NOW, dry_run=True)
    assert dry.visits_purged == 3 and db.execute("SELECT count(*) FROM visits").fetchone()[0] == 9

    rep = retention.run(db, privacy_cfg, NOW)
    left = {r[0] for r in db.execute("SELECT id FROM visits")}
    assert left == {v[k] for k in ("unsynced_old", "acked_young", "stay_open_old", "in_flight_old", "manual_old",
                                   "repeat_young")}
    assert rep.visits_purged == 3 and rep.stays_purged == 1 and rep.patients_purged == 2
    assert rep.kept_unsynced == 3 and rep.kept_open_stays == 1
    # The purged visits are now counts only.
    (n,) = db.execute("SELECT sum(visits) FROM retention_counts").fetchone()
    assert n == 3
    # Nothing unsynced lost: every outbox row not acknowledged is still there with its payload.
    waiting = db.execute("SELECT count(*) FROM outbox WHERE state != 'acknowledged' AND payload != '{}' "
                         "AND kind != 'audit'").fetchone()[0]
    assert waiting == 4  # unsynced, in flight, needs manual, open stay notification
    # The bytes: the purged person's sealed name is in neither the database nor the WAL; the kept one is.
    blob = raw(privacy_cfg)
    assert gone_name.encode() not in blob and kept_name.encode() in blob
    assert rep.vacuumed
    # The run is in the audit trail, which still verifies.
    assert audit.entries(db.conn)[-1].action == "purged" and audit.verify(db.conn).ok


@pytest.mark.parametrize("offset, purged", [(-1, True), (0, False), (1, False)])
def test_visit_boundary_to_the_second(privacy_cfg, offset, purged):
    clock = FixedClock(NOW)
    service = build(privacy_cfg, "none", clock=clock).checkin_service()
    vid = checkin_at(service, clock, 9, NOW - timedelta(days=DAYS) + timedelta(seconds=offset))
    with store.transaction(service.db) as conn:
        ack(conn, "visit", vid)
    rep = retention.run(service.db, privacy_cfg, NOW)
    assert rep.visits_purged == int(purged)
    assert (service.db.execute("SELECT count(*) FROM visits").fetchone()[0] == 0) == purged


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ages=st.lists(st.tuples(st.integers(0, 200 * 86400), st.sampled_from(["queued", "sent", "acknowledged",
                                                                              "needs_manual"])),
                     min_size=1, max_size=8))
def test_never_purges_unsynced_and_always_purges_expired_synced(tmp_path_factory, ages):
    from kiosk import config
    from kiosk.privacy import datakey
    d = tmp_path_factory.mktemp("r")
    (d / "data").mkdir()
    toml = d / "k.toml"
    toml.write_text(f'[storage]\ndata_dir = "{d / "data"}"\n[privacy]\ndata_key_file = "{d / "data.key"}"\n')
    datakey.create(d / "data.key")
    cfg = config.load(str(toml), None, env={})
    clock = FixedClock(NOW)
    service = build(cfg, "none", clock=clock).checkin_service()
    expect_left = set()
    for i, (age, state) in enumerate(ages):
        vid = checkin_at(service, clock, i, NOW - timedelta(seconds=age))
        with store.transaction(service.db) as conn:
            if state == "acknowledged":
                ack(conn, "visit", vid)
            else:
                conn.execute("UPDATE outbox SET state = ? WHERE kind = 'visit' AND record_id = ?", [state, vid])
        if state != "acknowledged" or age <= DAYS * 86400:
            expect_left.add(vid)
    retention.run(service.db, cfg, NOW, vacuum=False)
    assert {r[0] for r in service.db.execute("SELECT id FROM visits")} == expect_left


def test_lookup_cache_rows_expire(privacy_cfg):
    clock = FixedClock(NOW)
    service = build(privacy_cfg, "none", clock=clock).checkin_service()
    db = service.db
    # No release has an online-answer cache table yet; retention handles one by name when it appears.
    db.conn.execute("CREATE TABLE lookup_cache (k TEXT PRIMARY KEY, answer TEXT, fetched_at TEXT NOT NULL)")
    db.conn.execute("INSERT INTO lookup_cache VALUES ('a', '{}', ?), ('b', '{}', ?)",
                    [iso_utc(NOW - timedelta(hours=25)), iso_utc(NOW - timedelta(hours=23))])
    rep = retention.run(db, privacy_cfg, NOW)
    assert rep.cache_purged == 1 and [r[0] for r in db.execute("SELECT k FROM lookup_cache")] == ["b"]


def test_cli_retention_run(cli_env, privacy_cfg):
    import subprocess
    from tests.conftest import kiosk_cmd
    clock = FixedClock(NOW - timedelta(days=100))
    service = build(privacy_cfg, "none", clock=clock).checkin_service()
    vid = checkin_at(service, clock, 1, NOW - timedelta(days=100))
    with store.transaction(service.db) as conn:
        ack(conn, "visit", vid)
    service.db.conn.close()
    out = subprocess.run(kiosk_cmd("retention", "run", "--json", "--now", iso_utc(NOW)), env=cli_env,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["visits_purged"] == 1
