"""Deadlines in Vietnam time, whatever the system timezone: 23:00 the same day, or 08:00 the next."""

import os
import time
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from kiosk.services import stay_notification as sn
from kiosk.clock import VN_TZ, FixedClock
from kiosk.domain import ScanEvent
from kiosk.errors import UsageError


@pytest.fixture(autouse=True)
def system_tz_utc():
    old = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if old is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = old
    time.tzset()


def vn(y, mo, d, h, mi):
    return datetime(y, mo, d, h, mi, tzinfo=VN_TZ)


@pytest.mark.parametrize("start, due", [
    (vn(2026, 11, 26, 22, 59), vn(2026, 11, 26, 23, 0)),
    (vn(2026, 11, 26, 23, 0), vn(2026, 11, 27, 8, 0)),
    (vn(2026, 11, 26, 23, 1), vn(2026, 11, 27, 8, 0)),
    (vn(2026, 11, 27, 0, 30), vn(2026, 11, 27, 23, 0)),
    (vn(2026, 11, 27, 7, 59), vn(2026, 11, 27, 23, 0)),
    (vn(2026, 12, 31, 23, 30), vn(2027, 1, 1, 8, 0)),  # year boundary
])
def test_deadline_table(start, due):
    assert time.localtime().tm_gmtoff == 0  # the system really is on UTC here
    got = sn.deadline_for(start)
    assert got == due
    assert got.tzinfo == timezone.utc


def test_vietnam_day_boundary_differs_from_utc_day():
    # 17:30 UTC on the 26th is 00:30 on the 27th in Vietnam: due 23:00 on the 27th (VN), not the 26th.
    start = datetime(2026, 11, 26, 17, 30, tzinfo=timezone.utc)
    assert sn.deadline_for(start) == vn(2026, 11, 27, 23, 0)
    # 15:59 UTC on the 26th is 22:59 VN: due at 16:00 UTC, one minute later.
    assert sn.deadline_for(datetime(2026, 11, 26, 15, 59, tzinfo=timezone.utc)) - \
        datetime(2026, 11, 26, 15, 59, tzinfo=timezone.utc) == timedelta(minutes=1)
    # 16:00 UTC is 23:00 VN: due 08:00 VN the next day = 01:00 UTC on the 27th.
    assert sn.deadline_for(datetime(2026, 11, 26, 16, 0, tzinfo=timezone.utc)) == \
        datetime(2026, 11, 27, 1, 0, tzinfo=timezone.utc)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(timezone.utc)))
def test_deadline_properties(start):
    due = sn.deadline_for(start)
    local_start, local_due = start.astimezone(VN_TZ), due.astimezone(VN_TZ)
    assert due > start
    if local_start.hour < 23:
        assert (local_due.date(), local_due.hour, local_due.minute) == (local_start.date(), 23, 0)
    else:
        assert (local_due.date(), local_due.hour, local_due.minute) == (local_start.date() + timedelta(days=1), 8, 0)
    assert due - start <= timedelta(hours=23, minutes=0)


@given(st.text(max_size=40))
def test_parse_when_never_crashes(text):
    try:
        v = sn.parse_when(text)
    except UsageError:
        return
    assert v.tzinfo is not None


def test_parse_when_defaults_to_vietnam_time():
    assert sn.parse_when("2026-11-26T23:00") == vn(2026, 11, 26, 23, 0)
    assert sn.parse_when("2026-11-26T16:00Z") == vn(2026, 11, 26, 23, 0)


def test_stay_started_at_2301_with_system_tz_utc(service, clock):
    clock.set(vn(2026, 11, 26, 23, 1))
    v = service.handle(ScanEvent(b"040195001234||Tran Thi A|12051995|N\xe1\xbb\xaf|X|03062021", "serial"))
    assert v.ok
    n = sn.start(service.db, v.visit_id, "theo doi", clock=clock, facility_code="40123", address_of_stay="Tram")
    assert n.deadline_at == "2026-11-27T01:00:00Z"  # 08:00 VN
    js = n.to_json(clock.now(), True)
    assert js["deadline_local"] == "2026-11-27T08:00+07:00"
    assert js["time_left_seconds"] == 8 * 3600 + 59 * 60
    clock.advance(hours=8, minutes=30)
    js = n.to_json(clock.now(), True)
    assert js["alarm"] and not js["overdue"]
    clock.advance(minutes=30)
    assert n.to_json(clock.now(), True)["overdue"]
