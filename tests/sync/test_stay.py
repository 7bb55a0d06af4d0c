"""Stay notifications: statutory fields only, states, receipts by hand, clock honesty."""

import json
import subprocess

import pytest

from kiosk.privacy import datakey
from kiosk.services import stay_notification as sn
from kiosk.clock import FixedClock
from kiosk.domain import ScanEvent
from kiosk.errors import UsageError
from sync.client import HubClient
from sync.sender import Sender, Settings
from tests.conftest import kiosk_cmd

CCCD = "040195001234|186543210|Trần Thị Lan Anh|12051995|Nữ|Xóm 3, Xã Nghi Phong|03062021"
CCCD2 = "040205004321||Lê Văn Bình|02092005|Nam|Khối 12, Phường Hưng Bình|15082022"


def visit(service, payload=CCCD):
    v = service.handle(ScanEvent(payload.encode(), "serial"))
    assert v.ok, v
    return v.visit_id


def start(service, clock, vid, **kw):
    return sn.start(service.db, vid, kw.pop("reason", "theo dõi qua đêm"), clock=clock, facility_code="40123",
                    address_of_stay="Trạm Y tế xã Mẫu", **kw)


def test_payload_has_exactly_the_statutory_fields(service, clock):
    n = start(service, clock, visit(service))
    (payload,) = service.db.execute("SELECT payload FROM outbox WHERE kind = 'stay_notification'").fetchone()
    assert datakey.is_sealed(json.loads(payload)["id_number"])  # sealed in the outbox, opened on the wire
    body = datakey.unseal_tree(service.data_key, json.loads(payload))
    assert set(body) == set(sn.STATUTORY_FIELDS) | {"notification_id", "facility_code", "deadline_at", "created_at",
                                                     "clock_synced"}
    assert body["full_name"] == "Trần Thị Lan Anh" and body["id_number"] == "040195001234"
    assert body["date_of_birth"] == "1995-05-12" and body["address_of_stay"] == "Trạm Y tế xã Mẫu"
    assert "sex" not in body and "address" not in body  # not statutory: the home address stays home
    assert n.state == "pending" and n.outbox_state == "queued" and n.clock_synced


def test_unsynchronised_clock_is_recorded_and_flagged(service):
    from datetime import datetime
    from kiosk.clock import VN_TZ
    clock = FixedClock(datetime(2026, 11, 26, 20, 0, tzinfo=VN_TZ), synchronised=False)
    service.db.conn.clock = clock  # the clock travels with the connection
    n = start(service, clock, visit(service))
    assert not n.clock_synced and "clock_unsynced" in n.flags
    assert n.to_json(clock.now(), False)["deadline_trusted"] is False
    assert json.loads(service.db.execute("SELECT payload FROM outbox WHERE kind='stay_notification'").fetchone()[0]
                      )["clock_synced"] is False


def test_refusals(service, clock):
    vid = visit(service)
    with pytest.raises(UsageError, match="reason"):
        start(service, clock, vid, reason="  ")
    with pytest.raises(UsageError, match="no visit"):
        start(service, clock, 999)
    start(service, clock, vid)
    with pytest.raises(UsageError, match="already has stay notification"):
        start(service, clock, vid)
    with pytest.raises(UsageError, match="--until"):
        start(service, clock, visit(service, CCCD2), stay_until=clock.now())
    # nothing half-written by the refusals
    assert service.db.execute("SELECT count(*) FROM stay_notifications").fetchone()[0] == 1
    assert service.db.execute("SELECT count(*) FROM outbox WHERE kind='stay_notification'").fetchone()[0] == 1


def test_receipt_while_queued_withdraws_it(service, clock, hub):
    n = start(service, clock, visit(service))
    got, outcome = sn.record_receipt(service.db, n.id, "VNeID-123456", clock=clock)
    assert outcome == "withdrawn" and got.state == "receipt_recorded" and got.outbox_state == "withdrawn"
    sender = Sender(service.db, HubClient(hub.url, hub.token), settings=Settings(backoff_max=0.01))
    r = sender.once()
    assert r.acknowledged == 1  # only the visit went
    assert hub.stats()["stay_notifications"] == 0 and hub.stats()["visits"] == 1
    with pytest.raises(UsageError, match="already has a receipt"):
        sn.record_receipt(service.db, n.id, "again", clock=clock)


def test_receipt_after_sending_keeps_both_and_flags(service, clock, hub):
    n = start(service, clock, visit(service))
    sender = Sender(service.db, HubClient(hub.url, hub.token))
    assert sender.once().acknowledged == 2
    assert sn.get(service.db.conn, n.id).state == "acknowledged"
    got, outcome = sn.record_receipt(service.db, n.id, "CA-7788", clock=clock)
    assert outcome == "kept_both" and got.state == "acknowledged" and "submitted_twice" in got.flags
    assert got.receipt_text == "CA-7788"


def test_rejected_by_hub_needs_manual_then_receipt(service, clock, hub):
    n = start(service, clock, visit(service))
    # Corrupt the queued body so the hub's contract check rejects it for good.
    service.db.conn.execute("UPDATE outbox SET payload = json_set(payload, '$.id_number', '12') "
                            "WHERE kind = 'stay_notification'")
    sender = Sender(service.db, HubClient(hub.url, hub.token))
    r = sender.once()
    assert r.rejected == 1 and sender.remaining() == 0
    got = sn.get(service.db.conn, n.id)
    assert got.state == "needs_manual" and "id_number" in got.manual_reason
    got, outcome = sn.record_receipt(service.db, n.id, "portal 2026/445", clock=clock)
    assert outcome == "recorded" and got.state == "receipt_recorded"
    assert sn.pending_with_time_left(service.db.conn, clock.now()) == []


def test_pending_query_orders_by_deadline(service, clock):
    from datetime import timedelta
    a = start(service, clock, visit(service), stay_from=clock.now() + timedelta(hours=14))  # 23:30 → 08:00 next
    b = start(service, clock, visit(service, CCCD2))  # 09:30 → 23:00 today
    rows = sn.pending_with_time_left(service.db.conn, clock.now(), True)
    assert [r["id"] for r in rows] == [b.id, a.id]
    assert rows[0]["time_left_seconds"] == 13 * 3600 + 30 * 60
    assert "040195001234" not in json.dumps(rows)  # masked only


def test_cli_start_list_receipt(kiosk_env, tmp_path):
    run = lambda *a: subprocess.run(kiosk_cmd(*a), capture_output=True, text=True, env=kiosk_env)
    assert run("checkin", "--payload", CCCD).returncode == 0
    r = run("stay", "start", "1", "--reason", "sinh con", "--from", "2026-11-26T23:00", "--json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["deadline_local"] == "2026-11-27T08:00+07:00" and data["state"] == "pending"
    assert "040195001234" not in r.stdout
    human = run("stay", "list")
    assert "********1234" in human.stdout and "040195001234" not in human.stdout
    from kiosk.clock import kernel_clock_synchronised
    assert ("not synchronised" in human.stdout) == (not kernel_clock_synchronised())  # said when it is so
    r = run("stay", "receipt", "1", "VNeID 42", "--json")
    assert r.returncode == 0 and json.loads(r.stdout)["outcome"] == "withdrawn"
    assert run("stay", "start", "7", "--reason", "x").returncode == 2
    assert run("stay", "start", "1", "--reason", "x", "--from", "yesterday").returncode == 2


def test_patient_without_id_number_needs_a_passport(service, clock, hub):
    from kiosk.simulated.demo import BHYT_QR
    v = service.handle(ScanEvent(BHYT_QR.encode(), "serial"))
    assert v.ok, v
    with pytest.raises(UsageError, match="--passport"):
        start(service, clock, v.visit_id)
    n = start(service, clock, v.visit_id, passport_number="C1234567")
    assert n.passport_number == "C1234567" and n.id_number is None and n.masked_id == "****4567"
    assert n.to_json()["document"] == "passport"
    sender = Sender(service.db, HubClient(hub.url, hub.token))
    sender.once()
    assert sn.get(service.db.conn, n.id).state == "acknowledged"
