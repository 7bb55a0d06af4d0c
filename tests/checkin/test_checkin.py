import json
from datetime import datetime, timedelta

import pytest

from kiosk import store
from kiosk.errors import UnavailableError
from kiosk.simulated import demo
from kiosk.clock import VN_TZ
from kiosk.domain import ScanEvent
from kiosk.eligibility.roster import DEMO_KEY


def scan(service, payload, source="serial"):
    return service.handle(ScanEvent(payload.encode("utf-8") if isinstance(payload, str) else payload, source))


def test_first_scan_gets_queue_number_one_with_masked_id(service):
    v = scan(service, demo.ELIGIBLE_CCCD)
    assert v.ok and v.queue_number == 1 and not v.existing
    assert v.patient["masked_id"] == "********1234"
    assert v.patient["full_name"] == "Trần Thị Lan Anh"
    assert v.visit_date == "2026-11-26"


def test_rescan_within_window_returns_same_visit(service, clock):
    first = scan(service, demo.ELIGIBLE_CCCD)
    clock.advance(minutes=9)
    again = scan(service, demo.ELIGIBLE_CCCD + "\r\n")
    assert again.existing and again.visit_id == first.visit_id and again.queue_number == 1
    rows = service.db.execute("SELECT count(*) FROM visits").fetchone()[0]
    assert rows == 1


def test_rescan_after_window_is_a_new_visit(service, clock):
    first = scan(service, demo.ELIGIBLE_CCCD)
    clock.advance(minutes=10, seconds=1)
    later = scan(service, demo.ELIGIBLE_CCCD)
    assert not later.existing and later.visit_id != first.visit_id and later.queue_number == 2


def test_queue_numbers_restart_at_midnight_vietnam_time(service, clock):
    # 23:59 in Vietnam is 16:59 UTC
    clock.set(datetime(2026, 11, 26, 23, 59, tzinfo=VN_TZ))
    a = scan(service, demo.ELIGIBLE_CCCD)
    b = scan(service, demo.EXPIRED_CCCD)
    clock.set(datetime(2026, 11, 27, 0, 0, 30, tzinfo=VN_TZ))  # 17:00:30 UTC, still 26 Nov in UTC
    c = scan(service, demo.UNKNOWN_CCCD)
    assert (a.visit_date, a.queue_number) == ("2026-11-26", 1)
    assert (b.visit_date, b.queue_number) == ("2026-11-26", 2)
    assert (c.visit_date, c.queue_number) == ("2026-11-27", 1)


def test_visit_eligibility_and_outbox_are_written_together(service):
    v = scan(service, demo.ELIGIBLE_CCCD)
    db = service.db
    (n_elig,) = db.execute("SELECT count(*) FROM eligibility_results WHERE visit_id = ?", [v.visit_id]).fetchone()
    kind, record_id, payload, state = db.execute("SELECT kind, record_id, payload, state FROM outbox").fetchone()
    assert n_elig == 1 and kind == "visit" and record_id == v.visit_id and state == "queued"
    assert json.loads(payload)["queue_number"] == 1


def test_eligibility_from_the_roster(service, clock):
    demo.seed_roster(service.db, DEMO_KEY, datetime(2026, 11, 26).date(), "40123")
    ok = scan(service, demo.ELIGIBLE_CCCD)
    expired = scan(service, demo.EXPIRED_CCCD)
    unknown = scan(service, demo.UNKNOWN_CCCD)
    assert (ok.eligibility["result_code"], ok.eligibility["benefit_percent"], ok.eligibility["source"]) == \
        ("000", 100, "roster")
    assert ok.eligibility["as_of"] == "2026-11-25"
    assert expired.eligibility["result_code"] == "010"
    assert unknown.eligibility["result_code"] == "K02" and unknown.eligibility["source"] == "none"


def test_name_mismatch_against_roster_is_flagged(service):
    demo.seed_roster(service.db, DEMO_KEY, datetime(2026, 11, 26).date(), "40123")
    forged = demo.ELIGIBLE_CCCD.replace("Trần Thị Lan Anh", "Trần Thị Lan")
    assert scan(service, forged).eligibility["result_code"] == "060"


def test_garbage_is_refused_and_writes_nothing(service):
    for payload in [b"", b"\xff\xfe\x00junk", "https://example.com/?a|b", "a|b|c", "x" * 70000]:
        r = scan(service, payload)
        assert not r.ok and r.reason == "unreadable" and r.detail
    assert service.db.execute("SELECT count(*) FROM visits").fetchone()[0] == 0
    assert service.db.execute("SELECT count(*) FROM outbox").fetchone()[0] == 0


def test_unsynchronised_clock_is_recorded(service, clock):
    clock._synced = False
    v = scan(service, demo.ELIGIBLE_CCCD)
    assert not v.clock_synced and "clock_unsynced" in v.flags


def test_id_number_inconsistency_is_a_visit_flag(service):
    # G digit 0 = male born 19xx; the QR says female
    v = scan(service, "040095001111||Hồ Thị Mai|01011995|Nữ|Nghệ An|01012022")
    assert v.ok and "id_sex_mismatch" in v.flags


def test_storage_failure_is_a_refusal_not_a_crash(service, monkeypatch):
    def boom(*a, **k):
        raise UnavailableError("the storage is full: nothing was saved; free space and try again")
    monkeypatch.setattr("kiosk.services.checkin.outbox.enqueue", boom)
    r = scan(service, demo.ELIGIBLE_CCCD)
    assert not r.ok and r.reason == "storage"
    assert service.db.execute("SELECT count(*) FROM visits").fetchone()[0] == 0


def test_rescan_with_another_name_keeps_the_first_identity_and_flags_the_visit(service, clock):
    first = scan(service, demo.ELIGIBLE_CCCD)
    clock.advance(minutes=3)
    other = demo.ELIGIBLE_CCCD.replace("Trần Thị Lan Anh", "Phạm Văn Khoa")
    again = scan(service, other)
    assert again.ok and again.existing and again.visit_id == first.visit_id
    assert again.patient["full_name"] == "Trần Thị Lan Anh"
    assert "identity_mismatch" in again.flags and "identity_mismatch" not in first.flags
    # stored on the visit (the console's queue and `kiosk visits` read it), once however often it is re-scanned
    scan(service, other)
    from kiosk.services.checkin import visits_on
    (listed,) = visits_on(service.db.conn, first.visit_date)
    assert listed.flags.count("identity_mismatch") == 1 and listed.patient["full_name"] == "Trần Thị Lan Anh"
    assert service.db.execute("SELECT count(*) FROM patients").fetchone()[0] == 1
    # the hub is sent the first identity, once
    from kiosk.privacy import datakey
    payloads = [datakey.unseal_tree(service.data_key, json.loads(p))
                for (p,) in service.db.execute("SELECT payload FROM outbox WHERE kind = 'visit'")]
    assert [p["patient"]["full_name"] for p in payloads] == ["Trần Thị Lan Anh"]


def test_rescan_with_another_birth_date_is_flagged_too(service, clock):
    first = scan(service, demo.ELIGIBLE_CCCD)
    again = scan(service, demo.ELIGIBLE_CCCD.replace("12051995", "12051996"))
    assert again.existing and again.visit_id == first.visit_id and "identity_mismatch" in again.flags
    assert again.patient["date_of_birth"] == first.patient["date_of_birth"]


def test_rescan_of_the_same_person_without_diacritics_is_not_a_mismatch(service, clock):
    first = scan(service, demo.ELIGIBLE_CCCD)
    again = scan(service, demo.ELIGIBLE_CCCD.replace("Trần Thị Lan Anh", "TRAN THI LAN ANH"))
    assert again.existing and again.visit_id == first.visit_id and "identity_mismatch" not in again.flags


def test_another_name_after_the_window_is_a_new_visit_without_the_flag(service, clock):
    scan(service, demo.ELIGIBLE_CCCD)
    clock.advance(minutes=10, seconds=1)
    later = scan(service, demo.ELIGIBLE_CCCD.replace("Trần Thị Lan Anh", "Phạm Văn Khoa"))
    assert not later.existing and "identity_mismatch" not in later.flags


def test_the_service_seals_identity_fields_as_in_production(service):
    from kiosk.privacy import datakey
    scan(service, demo.ELIGIBLE_CCCD)
    row = service.db.execute("SELECT identity_key, id_number, full_name, date_of_birth, address FROM patients").fetchone()
    assert service.data_key is not None and row[0].startswith("hid:") and "040195001234" not in row[0]
    assert all(datakey.is_sealed(v) for v in row[1:])
    assert datakey.reveal("patients.id_number", row[1], service.data_key) == "040195001234"


@pytest.mark.clear_text
def test_without_a_data_key_rows_are_in_clear_and_still_one_patient_per_number(service, clock):
    # The key-less mode CheckinService allows (data_key=None): what `kiosk datakey encrypt-existing` converts.
    first = scan(service, demo.ELIGIBLE_CCCD)
    again = scan(service, demo.ELIGIBLE_CCCD)
    assert service.data_key is None and again.existing and again.visit_id == first.visit_id
    assert service.db.execute("SELECT identity_key, full_name FROM patients").fetchall() == \
        [("id:040195001234", "Trần Thị Lan Anh")]
