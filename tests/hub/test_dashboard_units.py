"""Pure pieces of the dashboard: ID masking (property-based), kiosk state classification, the period grid."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

pytest.importorskip("kiosk_hub")

from tests.hub import dashboard_data as dd  # noqa: E402


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """Django configured (pure functions here: no database is read, so one engine is enough)."""
    dd.django_ready(tmp_path_factory)


def test_mask_examples():
    from kiosk_hub.dashboard.masking import mask_id, masked_ids

    assert mask_id("001095001245") == "0010******45"
    assert mask_id("B1234567") == "B123**67"
    assert mask_id("12345") == "*****"
    assert mask_id(None) == "" and mask_id("  ") == ""
    assert masked_ids({"a": [{"id_number": "001095001245"}], "passport_number": "C1234567"}) == [
        "0010******45", "C123**67"]


@given(st.text(min_size=1, max_size=40))
def test_mask_never_shows_more_than_six_characters(value):
    from kiosk_hub.dashboard.masking import mask_id

    out = mask_id(value)
    text = value.strip()
    assert len(out) == len(text)
    shown = [ch for ch in out if ch != "*"]
    assert len(shown) <= 6
    if len(text) > 6:
        assert out[:4] == text[:4] and out[-2:] == text[-2:] and set(out[4:-2]) <= {"*"}
    else:
        assert set(out) <= {"*"}


def _status(**kw):
    base = dict(received_at=None, roster_as_of=None, oldest_unsent_at=None, devices={}, clock_synced=True,
                disk_free_mb=4000, roster_version=7)
    base.update(kw)
    return SimpleNamespace(**base)


def test_classify_orders_revoked_stale_faulty_lagging(hub):
    from kiosk_hub.dashboard.views.fleet import classify

    now = dt.datetime(2026, 11, 28, 10, 0, tzinfo=dt.UTC)
    dev = SimpleNamespace(revoked_at=None)
    fresh = now - dt.timedelta(minutes=5)
    parts = {"scanner": "ok", "chip": "ok", "camera": "ok", "printer": "ok"}
    assert classify(dev, None, now).state == "stale"
    assert classify(dev, _status(received_at=now - dt.timedelta(minutes=31), devices=parts), now).state == "stale"
    assert classify(dev, _status(received_at=now - dt.timedelta(minutes=29), devices=parts), now).state == "ok"
    assert classify(dev, _status(received_at=fresh, devices={**parts, "chip": "fault"}), now).state == "faulty"
    assert classify(dev, _status(received_at=fresh, devices=parts, clock_synced=False), now).state == "faulty"
    assert classify(dev, _status(received_at=fresh, devices=parts, disk_free_mb=100), now).state == "faulty"
    assert classify(dev, _status(received_at=fresh, devices=parts,
                                 oldest_unsent_at=now - dt.timedelta(minutes=61)), now).state == "lagging"
    assert classify(dev, _status(received_at=fresh, devices=parts,
                                 oldest_unsent_at=now - dt.timedelta(minutes=59)), now).state == "ok"
    assert classify(dev, _status(received_at=fresh, devices=parts, roster_as_of="2026-11-20"), now).state == "lagging"
    assert classify(dev, _status(received_at=fresh, devices=parts, roster_as_of="2026-11-21"), now).state == "ok"
    revoked = SimpleNamespace(revoked_at=now)
    assert classify(revoked, _status(received_at=fresh, devices={**parts, "chip": "fault"}), now).state == "revoked"


def test_period_grid_covers_the_range(hub):
    from kiosk_hub.dashboard.views.use import label, periods

    q = SimpleNamespace(start=dt.date(2026, 1, 30), end=dt.date(2026, 4, 2), period="month")
    assert periods(q) == [dt.date(2026, 1, 1), dt.date(2026, 2, 1), dt.date(2026, 3, 1), dt.date(2026, 4, 1)]
    q.period = "week"
    weeks = periods(q)
    assert weeks[0] == dt.date(2026, 1, 26) and all(w.weekday() == 0 for w in weeks) and weeks[-1] <= q.end
    assert label(dt.date(2026, 3, 1), "month") == "03/2026"
