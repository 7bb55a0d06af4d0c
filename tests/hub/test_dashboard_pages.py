"""Dashboard pages and actions (Django test client, in process): masking, reader-use numbers from the
DailyUse aggregate, stays ordering and on-time rates, enrol/revoke/roster through registry services,
login throttling, Vietnamese and English."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import io
import json

import pytest

pytest.importorskip("django")
pytest.importorskip("kiosk_hub")

from tests.hub import dashboard_data as dd  # noqa: E402
from tests.hub.test_dashboard_roles import client_for, csv_rows, hub  # noqa: E402,F401

PAGES = ("/fleet/", "/use/", "/use/?by=district&period=week", "/use/?period=month", "/stays/", "/devices/",
         "/roster/", "/actions/", "/stays/?which=late")
EXPORTS = ("/fleet/export.csv", "/use/export.csv", "/use/export.csv?by=district", "/stays/export.csv")


def test_no_page_or_export_shows_an_id_number_or_a_name(hub):
    c = client_for("admin")
    urls = [*PAGES, *EXPORTS, *(f"/devices/{pk}/" for pk in hub["devices"].values())]
    for url in urls:
        r = c.get(url)
        assert r.status_code == 200, url
        body = r.content.decode("utf-8-sig")
        assert dd.SECRET_ID not in body, url
        assert dd.SECRET_NAME not in body, url
    xlsx = c.get("/use/export.xlsx").content
    assert dd.SECRET_ID.encode() not in xlsx
    # The stays page shows which person only as a masked number.
    assert "0010******45" in c.get("/stays/").content.decode()


def test_reader_use_numbers_come_from_daily_use(hub):
    c = client_for("admin")
    today = hub["today"].isoformat()
    start = (hub["today"].fromordinal(hub["today"].toordinal() - 9)).isoformat()
    rows = csv_rows(c.get(f"/use/export.csv?period=day&start={start}&end={today}"))
    by_station: dict[str, dict[str, int]] = {}
    for r in rows:
        agg = by_station.setdefault(r["station_code"], {})
        for k in ("visits", "chip", "cccd_qr", "bhyt_qr", "mrz", "manual", "unknown"):
            agg[k] = agg.get(k, 0) + int(r[k])
    assert by_station["27001"] == {"visits": 100, "chip": 50, "cccd_qr": 30, "bhyt_qr": 0, "mrz": 0,
                                   "manual": 20, "unknown": 0}
    assert by_station["27012"]["unknown"] == 20
    one_day = [r for r in rows if r["station_code"] == "27001" and r["period_start"] == today][0]
    assert float(one_day["reader_share_pct"]) == 80.0
    # Weeks and months add up to the same totals.
    for period in ("week", "month"):
        total = sum(int(r["visits"]) for r in csv_rows(c.get(f"/use/export.csv?period={period}&start={start}&end={today}"))
                    if r["station_code"] == "27001")
        assert total == 100, period
    by_district = csv_rows(c.get(f"/use/export.csv?by=district&start={start}&end={today}"))
    assert sum(int(r["visits"]) for r in by_district if r["district"] == "401") == 140


def test_stations_without_reader_use_are_listed(hub):
    c = client_for("admin")
    body = c.get("/use/").content.decode()
    unused = body.split('id="unused-table"')[1].split("</table>")[0]
    assert 'data-station="27002"' in unused and 'data-station="27022"' in unused
    assert 'data-station="27001"' not in unused and 'data-station="27012"' not in unused
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(c.get("/use/export.xlsx").content), read_only=True)
    codes = {row[0] for row in list(wb.worksheets[1].iter_rows(values_only=True))[1:]}
    assert codes == {"27002", "27022"}


def test_use_page_never_reads_visits(hub):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    c = client_for("admin")
    with CaptureQueriesContext(connection) as ctx:
        assert c.get("/use/?period=month&by=district").status_code == 200
        assert c.get("/use/export.csv").status_code == 200
    sql = " ".join(q["sql"] for q in ctx.captured_queries).lower()
    assert "ingest_dailyuse" in sql
    assert "ingest_visit" not in sql


def test_charts_are_inline_svg_and_escape_names(hub):
    from kiosk_hub.dashboard import charts

    svg = charts.stacked_bars([("<script>alert(1)</script>", [1, 2])], [("c-chip", "Chip"), ("c-manual", "M")],
                              title="t")
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    body = client_for("admin").get("/use/").content.decode()
    assert body.count("<svg class=\"chart\"") == 2
    assert "<script" not in body  # no JavaScript, no CDN
    assert "http://" not in body.replace("http://www.w3.org/2000/svg", "") and "https://" not in body


def _record_order(body: str) -> list[str]:
    table = body.split('id="stays"')[1].split("</table>")[0]
    return [chunk.split('"')[0] for chunk in table.split('data-record="')[1:]]


def _station_row(body: str, table: str, code: str) -> str:
    return body.split(f'id="{table}"')[1].split("</table>")[0].split(f'data-station="{code}"')[1].split("</tr>")[0]


def test_stays_not_yet_sent_come_from_heartbeats_overdue_first(hub):
    """Stays the kiosks still hold (heartbeats): the station whose earliest deadline passed first, then the one
    due within the hour, then the rest by deadline. A revoked kiosk's heartbeat no longer counts."""
    c = client_for("admin")
    body = c.get("/stays/").content.decode()
    table = body.split('id="open-stays"')[1].split("</table>")[0]
    order = [chunk.split('"')[0] for chunk in table.split('data-station="')[1:]]
    assert order == ["27001", "27011", "27002", "27021"]
    assert 'data-station="27001" data-urgency="overdue"' in table
    assert 'data-station="27011" data-urgency="due-soon"' in table
    assert 'data-station="27002" data-urgency="open"' in table
    assert 'class="badge stale"' in _station_row(body, "open-stays", "27002")   # its kiosk's heartbeat is old
    assert 'id="overdue-count" class="error">1<' in body and 'id="due-soon-count">1<' in body
    assert 'id="open-count">5<' in body
    # A district viewer sees its own district's stations only.
    own = client_for("dienchau").get("/stays/").content.decode()
    assert 'data-station="27011"' in own and 'data-station="27001"' not in own


def test_open_stays_of_a_revoked_kiosk_do_not_count(hub):
    from django.utils import timezone

    from kiosk_hub.registry.models import Device

    dev = Device.objects.get(name="quynh-ba-1")
    dev.status.open_stays, dev.status.earliest_stay_deadline = 3, timezone.now()
    dev.status.save()
    assert 'data-station="27022"' in client_for("admin").get("/stays/").content.decode()
    dev.revoked_at = timezone.now()
    dev.save()
    try:
        assert 'data-station="27022"' not in client_for("admin").get("/stays/").content.decode()
    finally:
        dev.revoked_at = None
        dev.save()
        dev.status.open_stays, dev.status.earliest_stay_deadline = 0, None
        dev.status.save()


def test_received_notifications_on_time_means_received_by_the_deadline(hub):
    """Made = received by the hub; on time when received_at <= deadline_at, whatever sent_at/acknowledged_at
    say (nothing on the hub sets them). Late ones first, the most recently received first in each group."""
    c = client_for("admin")
    body = c.get("/stays/").content.decode()
    assert _record_order(body) == ["101", "703", "701", "501", "502", "105", "702"]   # 704: 60 days ago
    for rec in ("101", "703"):
        assert f'data-record="{rec}" data-urgency="late"' in body
    for rec in ("105", "501", "502", "701", "702"):   # 105's deadline passed and nothing else was ever set
        assert f'data-record="{rec}" data-urgency="on-time"' in body
    assert 'id="late-count">2<' in body
    assert 'id="on-time-rate">71 %<' in body          # 5 of 7
    # Per station, over the period, the worst first.
    rates = body.split('id="station-rates"')[1].split("</table>")[0]
    assert [chunk.split('"')[0] for chunk in rates.split('data-station="')[1:]] == ["27001", "27021", "27011"]
    assert "50 %" in _station_row(body, "station-rates", "27001")     # 101 late, 105 on time
    assert "67 %" in _station_row(body, "station-rates", "27021")     # 701, 702 on time, 703 late
    assert "100 %" in _station_row(body, "station-rates", "27011")    # 502 received at its deadline
    # A police acknowledgement, when one is ever recorded, shows beside the row; nothing depends on it.
    row_702 = body.split('data-record="702"')[1].split("</tr>")[0]
    assert "police-ack" in row_702 and "police-ack" not in body.split('data-record="701"')[1].split("</tr>")[0]
    # Filters: late only; the period chosen.
    late = c.get("/stays/?which=late").content.decode()
    assert _record_order(late) == ["101", "703"]
    start = (hub["today"] - dt.timedelta(days=89)).isoformat()
    wide = c.get(f"/stays/?start={start}&end={hub['today'].isoformat()}").content.decode()
    assert _record_order(wide)[:3] == ["101", "703", "704"]
    assert "50 %" in _station_row(wide, "station-rates", "27021")     # 2 of 4 over 90 days
    narrow = c.get(f"/stays/?start={hub['today'].isoformat()}&end={hub['today'].isoformat()}").content.decode()
    assert "704" not in _record_order(narrow) and "703" not in _record_order(narrow)


def test_stays_csv_has_received_time_and_on_time_without_personal_data(hub):
    c = client_for("admin")
    rows = csv_rows(c.get("/stays/export.csv?which=late"))
    assert [r["record_id"] for r in rows] == ["101", "703"]
    assert [(r["on_time"], r["minutes_late"]) for r in rows] == [("0", "60"), ("0", "30")]
    assert set(rows[0]) >= {"deadline_at", "received_at", "acknowledged_at"}
    assert "id_number" not in rows[0] and "full_name" not in rows[0]
    every = {r["record_id"]: r for r in csv_rows(c.get("/stays/export.csv"))}
    assert every["502"]["on_time"] == "1" and every["502"]["minutes_late"] == "0"
    assert every["702"]["acknowledged_at"] and not every["701"]["acknowledged_at"]
    assert "704" not in every


def test_enrol_shows_the_token_once_with_a_qr_and_records_the_action(hub):
    from kiosk_hub.registry.models import AdminAction, Device

    c = client_for("admin")
    r = c.post("/devices/enrol", {"facility": "27012", "name": "dien-hai-2"})
    assert r.status_code == 200
    assert "no-store" in r["Cache-Control"]
    body = r.content.decode()
    token = body.split('id="token">')[1].split("<")[0].strip()
    assert len(token) >= 40
    dev = Device.objects.get(name="dien-hai-2")
    assert dev.facility_id == "27012"
    assert dev.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert '<svg' in body.split('id="token-qr"')[1]
    assert AdminAction.objects.filter(actor="admin", action="device_enrol", target="dien-hai-2").exists()
    # The device page never shows it again; a second enrol of the name is refused without "re-enrol".
    assert token not in c.get(f"/devices/{dev.pk}/").content.decode()
    again = c.post("/devices/enrol", {"facility": "27012", "name": "dien-hai-2"})
    assert 'id="enrol-error"' in again.content.decode()
    assert Device.objects.get(name="dien-hai-2").token_hash == dev.token_hash
    bad = c.post("/devices/enrol", {"facility": "27012", "name": "Bad Name!"})
    assert 'id="enrol-error"' in bad.content.decode() and not Device.objects.filter(name="Bad Name!").exists()


def test_revoke_with_wipe_goes_through_the_service(hub):
    from kiosk_hub.registry.models import AdminAction, Device

    c = client_for("admin")
    c.post("/devices/enrol", {"facility": "27021", "name": "quynh-luu-9"})
    dev = Device.objects.get(name="quynh-luu-9")
    r = c.post(f"/devices/{dev.pk}/revoke", {"reason": "stolen", "wipe": "on"})
    assert r.status_code == 302
    dev.refresh_from_db()
    assert dev.revoked_at is not None and dev.wipe_ordered and dev.revoke_reason == "stolen"
    act = AdminAction.objects.get(action="device_revoke", target="quynh-luu-9")
    assert act.actor == "admin" and act.detail["wipe"] is True
    assert 'id="revoke-form"' not in c.get(f"/devices/{dev.pk}/").content.decode()
    assert "quynh-luu-9" in c.get("/actions/").content.decode()


def test_roster_upload_publishes_and_shows_who_is_behind(hub, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from kiosk_hub.ingest.models import RosterFile
    from kiosk_hub.registry.models import AdminAction

    c = client_for("admin")
    data = gzip.compress((json.dumps({"roster": "snapshot", "version": 9, "as_of": "2026-11-27"}) + "\n"
                          + json.dumps({"card_number": "DN4010123456789", "valid_to": "2027-12-31"}) + "\n")
                         .encode())
    r = c.post("/roster/upload", {"file": SimpleUploadedFile("roster-9.jsonl.gz", data)})
    assert r.status_code == 302
    rf = RosterFile.objects.get(version=9)
    assert rf.kind == "snapshot" and rf.sha256 == hashlib.sha256(data).hexdigest()
    assert AdminAction.objects.filter(action="roster.publish", actor="admin", detail__version=9).exists()
    body = c.get("/roster/").content.decode()
    assert 'id="latest-version">9<' in body
    # Every seeded kiosk holds version 7: all are behind now.
    assert 'class="lagging" data-device="nghi-phong-1"' in body
    # A bad header is refused with a message, nothing published.
    n = RosterFile.objects.count()
    r = c.post("/roster/upload", {"file": SimpleUploadedFile("x.jsonl", b'{"roster": "delta", "since": 5}\n')},
               follow=True)
    assert RosterFile.objects.count() == n
    assert 'class="error"' in r.content.decode()
    # No upload left behind in the data directory.
    from django.conf import settings

    assert not list(settings.DATA_DIR.glob("upload-*"))


def test_login_form_and_throttling(hub):
    from django.test import Client

    c = Client()
    r = c.post("/accounts/login/", {"username": "dienchau", "password": dd.PASSWORD})
    assert r.status_code == 302
    assert c.get("/fleet/").status_code == 200
    c = Client()
    for _ in range(5):
        r = c.post("/accounts/login/", {"username": "nghiloc", "password": "wrong-password-1"})
    r = c.post("/accounts/login/", {"username": "nghiloc", "password": dd.PASSWORD})
    assert r.status_code == 429
    assert c.get("/fleet/").status_code == 302  # not signed in
    from axes.utils import reset

    reset(username="nghiloc")


def test_vietnamese_first_with_english(hub):
    c = client_for("admin")
    body = c.get("/fleet/").content.decode()
    assert '<html lang="vi">' in body and "Đội máy" in body and "Mất liên lạc" in body
    r = c.post("/i18n/setlang/", {"language": "en", "next": "/fleet/"})
    assert r.status_code == 302
    body = c.get("/fleet/").content.decode()
    assert '<html lang="en">' in body and ">Fleet<" in body and "Stale" in body
    assert "Đội máy" not in body


def test_translation_catalogue_is_complete_and_compiled():
    from kiosk_hub.dashboard import i18n

    assert i18n.untranslated("vi") == []
    assert not i18n.stale("vi"), "run: python -m kiosk_hub.dashboard.i18n build"


def test_static_files_are_served_without_collectstatic_or_a_warning(hub):
    """WhiteNoise serves the apps' static/ through the finders: no STATIC_ROOT to fill in dev and tests, so no
    'No directory at …' warning at start-up (as a STATIC_ROOT that was never filled gives), and the stylesheet
    is served."""
    import warnings

    from django.http import HttpResponse
    from whitenoise.middleware import WhiteNoiseMiddleware

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        WhiteNoiseMiddleware(lambda request: HttpResponse())
    assert not [w for w in caught if "No directory" in str(w.message)], [str(w.message) for w in caught]
    r = client_for(None).get("/static/dashboard/hub.css")
    assert r.status_code == 200
    assert b"tr.overdue" in b"".join(r.streaming_content)
