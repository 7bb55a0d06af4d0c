"""The heartbeat (contract 1.1.0) and the visit's `document`: real check-ins, a real hub on loopback.

Counts are checked on what the hub stored, so a field built wrong or dropped on the way fails here; the
privacy test looks for every personal value the check-ins carried in the heartbeat as sent and as stored.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from datetime import date, datetime, timedelta, timezone

import pytest

from kiosk.services import device_status
from kiosk.services import stay_notification
from kiosk.clock import VN_TZ, iso_utc
from kiosk.domain import ScanEvent
from kiosk.services.manual_entry import manual_document
from sync import heartbeat as hb
from sync.client import HubClient
from sync.sender import Sender, Settings
from tests.conftest import kiosk_cmd
from tests.documents.payloads import bhyt, cccd, mrz
from tests.faultproxy import FaultProxy
from tests.sync.conftest import wait_until

# Invented people, one per document kind; every value here must stay out of the heartbeat.
PEOPLE = {
    "cccd_qr": dict(id="040195001234", old="186543210", name="Trần Thị Lan Anh", dob="12051995"),
    "phone_qr": dict(id="040205004321", old="", name="Lê Văn Bình", dob="02092005", sex="Nam"),
}
BHYT_CARD = "4012345678"
BHYT_NAME = "Phạm Thị Hoa"
MRZ_ID = "001090012345"
MANUAL_ID = "040188007777"
MANUAL_NAME = "Đỗ Thị Mai"
PASSPORT = "C1234567"
PASSPORT_NAME = "Jane Roe"
CHIP_ID, CHIP_NAME = "001085012345", "Nguyễn Thị Thu Hương"


def chip_read():
    """A real chip read: the project's card emulator in process, read by the real ChipReader (ui's simulated
    source, which hands the kiosk exactly what the PC/SC source does)."""
    from kiosk.simulated.chip_source import EmulatedChipSource
    src = EmulatedChipSource(latency_ms=0, photo=False)
    scans = []
    src.start(scans.append)
    src.expect(CHIP_ID, date_of_birth=date(1985, 3, 14))
    src.present().join(30)
    assert len(scans) == 1, src.errors
    return scans[0]


def check_in_every_kind(service) -> dict[str, int]:
    """One visit per document kind (the phone QR from the camera); visit ids by kind."""
    out = {}

    def handle(kind, scan):
        v = service.handle(scan)
        assert v.ok and not v.existing, (kind, v)
        out[kind] = v.visit_id
    handle("cccd_qr", ScanEvent(cccd(**PEOPLE["cccd_qr"]).encode(), "serial"))
    handle("phone_qr", ScanEvent(cccd(**PEOPLE["phone_qr"]).encode(), "camera"))
    handle("bhyt_qr", ScanEvent(bhyt(card=BHYT_CARD).encode(), "hid"))
    handle("mrz", ScanEvent(mrz(id_number=MRZ_ID).encode(), "camera"))
    handle("chip", chip_read())
    handle("manual", ScanEvent(b"", "manual", document=manual_document("id_number", MANUAL_ID, MANUAL_NAME,
                                                                           "01/02/1988", "nữ")))
    handle("manual_passport", ScanEvent(b"", "manual", document=manual_document(
        "passport", PASSPORT, PASSPORT_NAME, "03/04/1990", "female", "GBR")))
    return out


EXPECTED_DOCUMENT = {"cccd_qr": "cccd_qr", "phone_qr": "cccd_qr", "bhyt_qr": "bhyt_qr", "mrz": "mrz",
                     "chip": "chip", "manual": "manual", "manual_passport": "manual"}


def test_document_field_for_every_kind(service):
    """The visit row and the payload the hub receives say which document identified the person."""
    ids = check_in_every_kind(service)
    conn = service.db.conn
    for kind, visit_id in ids.items():
        (doc,) = conn.execute("SELECT document FROM visits WHERE id = ?", [visit_id]).fetchone()
        (payload,) = conn.execute("SELECT payload FROM outbox WHERE kind = 'visit' AND record_id = ?",
                                  [visit_id]).fetchone()
        assert doc == EXPECTED_DOCUMENT[kind], kind
        assert json.loads(payload)["document"] == EXPECTED_DOCUMENT[kind], kind


def start_stay(service, visit_id, clock, hours_ago=0):
    return stay_notification.start(service.db, visit_id, "theo dõi sau sinh", clock=clock, facility_code="40123",
                                   address_of_stay="Trạm Y tế xã Thử",
                                   stay_from=clock.now() - timedelta(hours=hours_ago))


def _when(v):
    """A time as the kiosk sent it (ISO-8601) or as the hub stored it (Django's UTC text on SQLite)."""
    if v is None or isinstance(v, datetime):
        return v
    t = datetime.fromisoformat(v.replace("Z", "+00:00"))
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)


def stored_heartbeat(hub) -> dict | None:
    """The latest heartbeat the hub keeps for the test's device (the fleet page's row), times as datetimes."""
    got = hub.heartbeat()
    if got is None:
        return None
    return {k: (_when(v) if k in ("oldest_unsent_at", "earliest_stay_deadline") else v) for k, v in got.items()}


def as_stored(body: dict) -> dict:
    """What the hub keeps of a heartbeat body: every field but `sent_at`, times as datetimes."""
    return {k: (_when(v) if k in ("oldest_unsent_at", "earliest_stay_deadline") else v)
            for k, v in body.items() if k != "sent_at"}


def personal_values() -> list[str]:
    vals = [p[k] for p in PEOPLE.values() for k in ("id", "name") if p.get(k)]
    vals += [PEOPLE["cccd_qr"]["old"], BHYT_CARD, BHYT_NAME, MRZ_ID, MANUAL_ID, MANUAL_NAME, PASSPORT,
             PASSPORT_NAME, CHIP_ID, CHIP_NAME]
    # Partial forms too: surnames and the last digits a masked ID would show.
    return vals + [v.split()[0] for v in (PEOPLE["cccd_qr"]["name"], BHYT_NAME, MANUAL_NAME, CHIP_NAME)]


def assert_no_personal_data(body: dict) -> None:
    text = json.dumps(body, ensure_ascii=False)
    for value in personal_values():
        assert value not in text, value
    # The last 4 digits a masked ID shows, anywhere but the one free-form number (free megabytes).
    digits = json.dumps({k: v for k, v in body.items() if k != "disk_free_mb"})
    for number in (PEOPLE["cccd_qr"]["id"], PEOPLE["phone_qr"]["id"], MRZ_ID, MANUAL_ID, CHIP_ID, BHYT_CARD):
        assert number[-4:] not in digits, number


def test_heartbeat_counts_on_a_live_hub_and_carries_no_personal_data(app, service, hub, clock, data_dir):
    ids = check_in_every_kind(service)
    # Yesterday's visits are not today's (Vietnam-time day): one more visit a day earlier.
    clock.advance(days=-1)
    assert service.handle(ScanEvent(cccd(id="040199002222", name="Hôm Qua", dob="01011999").encode())).ok
    clock.advance(days=1)
    overdue = start_stay(service, ids["cccd_qr"], clock, hours_ago=30)
    later = start_stay(service, ids["chip"], clock)
    db = app.database()
    device_status.record(db, "scanner", "ok", clock.now())
    device_status.record(db, "chip", "fault", clock.now())
    client = HubClient(hub.url, hub.token)
    # Deliver everything but the last two outbox rows, so the heartbeat sees both states.
    n = db.execute("SELECT count(*) FROM outbox").fetchone()[0]
    Sender(db, client, clock=clock).send_batch(limit=n - 2)

    beat = hb.Heartbeat(db, client, data_dir=data_dir, clock=clock)
    assert beat.beat(), beat.last_error
    got = stored_heartbeat(hub)
    assert got["outbox"] == {"queued": 2, "sent": 0, "acknowledged": n - 2, "needs_manual": 0, "withdrawn": 0}
    assert got["visits_today"] == {"chip": 1, "cccd_qr": 2, "bhyt_qr": 1, "mrz": 1, "manual": 2}
    assert got["devices"] == {"scanner": "ok", "chip": "fault", "camera": "absent", "printer": "absent"}
    assert got["open_stays"] == 2
    assert got["earliest_stay_deadline"] == _when(min(overdue.deadline_at, later.deadline_at)) \
        == _when(overdue.deadline_at)
    oldest = db.execute("SELECT min(created_at) FROM outbox WHERE state = 'queued'").fetchone()[0]
    assert got["oldest_unsent_at"] == _when(oldest)
    assert got["clock_synced"] in (True, 1)
    assert isinstance(got["disk_free_mb"], int) and got["disk_free_mb"] > 0
    assert got["app_version"] and got["roster_version"] is None

    # No personal data: not in the body sent, not in what the hub stored.
    body = hb.build(db, now=clock.now(), data_dir=data_dir, clock=clock)
    assert body["sent_at"] == iso_utc(clock.now())
    assert {**as_stored(body), "disk_free_mb": 0} == {**got, "disk_free_mb": 0}  # the disk may change meanwhile
    assert_no_personal_data(body)
    assert_no_personal_data({k: str(v) for k, v in got.items()})


def test_sync_loop_heartbeats_after_delivering_and_on_schedule(app, service, hub, clock, data_dir):
    for i in range(3):
        assert service.handle(ScanEvent(cccd(id=f"04019500{i:04d}", name=f"Người Thử {i}").encode())).ok
    db = app.database()
    client = HubClient(hub.url, hub.token)
    # An interval far beyond the test: every heartbeat after the first comes from delivering records.
    beat = hb.Heartbeat(db, client, data_dir=data_dir, clock=clock, interval=3600)
    sender = Sender(db, client, clock=clock, settings=Settings(idle_poll=0.05), heartbeat=beat)
    stop = threading.Event()
    t = threading.Thread(target=sender.run, args=(stop,), daemon=True)
    t.start()
    try:
        assert wait_until(lambda: (stored_heartbeat(hub) or {}).get("outbox", {}).get("acknowledged") == 3)
        assert stored_heartbeat(hub)["outbox"]["queued"] == 0
        sent_after_drain = beat.sent
        # One more check-in: delivered, then a heartbeat that counts it, long before the interval.
        assert service.handle(ScanEvent(cccd(id="040195009999", name="Người Thử Cuối").encode())).ok
        assert wait_until(lambda: (stored_heartbeat(hub) or {}).get("outbox", {}).get("acknowledged") == 4)
        assert beat.sent == sent_after_drain + 1
    finally:
        stop.set()
        t.join(10)
    # On schedule: with a short interval and nothing to send, heartbeats keep coming.
    beat.interval, beat.next_at = 0.2, 0.0
    before = beat.sent
    stop = threading.Event()
    t = threading.Thread(target=sender.run, args=(stop,), daemon=True)
    t.start()
    try:
        assert wait_until(lambda: beat.sent >= before + 3)
    finally:
        stop.set()
        t.join(10)


@pytest.mark.parametrize("fault", ["fail", "reset"])
def test_failing_heartbeats_never_hold_up_records(app, service, hub, clock, data_dir, fault):
    """Through a proxy that answers every heartbeat 503 (or resets it): records still all arrive, the
    breaker never counts the heartbeat, and the loop keeps running."""
    from urllib.parse import urlsplit
    u = urlsplit(hub.url)
    with FaultProxy(u.hostname, u.port, only_paths=("/v1/heartbeat",), **{f"{fault}_rate": 1.0}) as proxy:
        client = HubClient(proxy.url, hub.token)
        db = app.database()
        beat = hb.Heartbeat(db, client, data_dir=data_dir, clock=clock, interval=0.1)
        sender = Sender(db, client, clock=clock, settings=Settings(idle_poll=0.05), heartbeat=beat)
        stop = threading.Event()
        t = threading.Thread(target=sender.run, args=(stop,), daemon=True)
        t.start()
        try:
            for i in range(5):
                assert service.handle(ScanEvent(cccd(id=f"04019501{i:04d}", name=f"Người Khác {i}").encode())).ok
                time.sleep(0.05)
            assert wait_until(lambda: sender.remaining() == 0)
            assert wait_until(lambda: beat.failed >= 3)
            assert t.is_alive() and beat.sent == 0 and sender.failures == 0
        finally:
            stop.set()
            t.join(10)
        assert db.execute("SELECT count(*) FROM outbox WHERE state = 'acknowledged'").fetchone()[0] == 5
        assert stored_heartbeat(hub) is None
        assert getattr(proxy.counters, "failed" if fault == "fail" else "reset") >= 3


def test_cli_heartbeat_sends_now_and_prints_it(hub, kiosk_env, data_dir):
    """`kiosk sync heartbeat --json`: real check-ins by the CLI (today, by the system clock), then one heartbeat."""
    env = kiosk_env
    for payload, source in ((cccd(**PEOPLE["cccd_qr"]), "serial"), (bhyt(card=BHYT_CARD), "camera")):
        r = subprocess.run(kiosk_cmd("checkin", "--payload", payload, "--source", source, "--json"),
                           capture_output=True, text=True, env=env)
        assert r.returncode == 0, r.stderr
    r = subprocess.run(kiosk_cmd("sync", "heartbeat", "--hub", hub.url, "--token-file", str(hub.token_file),
                                 "--json"), capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["sent"] is True and out["error"] is None
    assert out["heartbeat"]["visits_today"]["cccd_qr"] == 1 and out["heartbeat"]["visits_today"]["bhyt_qr"] == 1
    assert out["heartbeat"]["outbox"]["queued"] == 2
    assert stored_heartbeat(hub) == as_stored(out["heartbeat"])
    assert_no_personal_data(out["heartbeat"])
    for value in personal_values():
        assert value not in r.stdout and value not in r.stderr, value
    # Readable output, and a hub that is not there: exit 3, the heartbeat still printed.
    r = subprocess.run(kiosk_cmd("sync", "heartbeat", "--hub", "http://127.0.0.1:9", "--token-file",
                                 str(hub.token_file)), capture_output=True, text=True, env=env)
    assert r.returncode == 3, r.stderr
    assert "heartbeat NOT sent" in r.stdout and "visits today: chip 0, cccd_qr 1, bhyt_qr 1" in r.stdout


def test_clock_state_is_tri_state():
    from kiosk.clock import FixedClock
    assert hb.clock_state(FixedClock(datetime(2026, 1, 1, tzinfo=VN_TZ), synchronised=False)) is False
    assert hb.clock_state(FixedClock(datetime(2026, 1, 1, tzinfo=VN_TZ))) is True
    assert hb.kernel_clock_state() in (True, False, None)
