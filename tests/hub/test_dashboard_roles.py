"""Dashboard role limits (Django test client, in process): every view and export is scoped on the server."""

from __future__ import annotations

import csv
import io

import pytest

pytest.importorskip("django")
pytest.importorskip("kiosk_hub")

from tests.hub import dashboard_data as dd  # noqa: E402


@pytest.fixture(scope="module", params=dd.ENGINES)
def hub(request, tmp_path_factory):
    """The seeded province on a database of this module's own, on each engine in turn (one per engine and
    module: the tests of a module share it, on SQLite and on the session's PostgreSQL)."""
    return dd.module_database(request.param, request, tmp_path_factory)


def client_for(username: str | None):
    from django.contrib.auth.models import User
    from django.test import Client

    c = Client()
    if username:
        c.force_login(User.objects.get(username=username))
    return c


def csv_rows(resp) -> list[dict]:
    return list(csv.DictReader(io.StringIO(resp.content.decode("utf-8-sig"))))


DISTRICT_401 = {"27001", "27002"}
DISTRICT_402 = {"27011", "27012"}


def test_anonymous_is_sent_to_login(hub):
    c = client_for(None)
    for url in ("/fleet/", "/use/", "/stays/", "/devices/", "/roster/", "/use/export.csv", "/stays/export.csv"):
        r = c.get(url)
        assert r.status_code == 302 and r["Location"].startswith("/accounts/login/"), url


def test_user_without_role_sees_nothing(hub):
    from django.contrib.auth.models import User

    User.objects.get_or_create(username="norole")
    c = client_for("norole")
    for url in ("/fleet/", "/use/", "/stays/export.csv"):
        assert c.get(url).status_code == 403, url


def test_district_viewer_fleet_is_its_district_only(hub):
    c = client_for("nghiloc")
    body = c.get("/fleet/").content.decode()
    assert "nghi-phong-1" in body and "nghi-xuan-1" in body
    assert "dien-kim-1" not in body and "quynh-luu-1" not in body
    # Asking for another district's filter is ignored, not honoured.
    body = c.get("/fleet/?district=402").content.decode()
    assert "dien-kim-1" not in body and "nghi-phong-1" in body
    rows = csv_rows(c.get("/fleet/export.csv?district=402"))
    assert {r["facility_code"] for r in rows} == DISTRICT_401


def test_admin_filters_fleet_by_district_and_state(hub):
    c = client_for("admin")
    rows = csv_rows(c.get("/fleet/export.csv?district=402"))
    assert {r["facility_code"] for r in rows} == DISTRICT_402
    states = {r["device"]: r["state"] for r in csv_rows(c.get("/fleet/export.csv"))}
    assert states["nghi-xuan-1"] == "stale"
    assert states["dien-kim-1"] == "faulty"
    assert states["dien-hai-1"] == "lagging"
    assert states["nghi-phong-1"] == "ok"
    only_stale = csv_rows(c.get("/fleet/export.csv?state=stale"))
    assert only_stale and {r["state"] for r in only_stale} == {"stale"}
    body = c.get("/fleet/?state=stale").content.decode()
    assert 'data-device="nghi-xuan-1" data-state="stale"' in body and 'data-device="nghi-phong-1"' not in body


def test_out_of_scope_device_is_404(hub):
    other = hub["devices"]["dien-kim-1"]
    own = hub["devices"]["nghi-phong-1"]
    c = client_for("nghiloc")
    assert c.get(f"/devices/{own}/").status_code == 200
    assert c.get(f"/devices/{other}/").status_code == 404
    s = client_for("tram27011")
    assert s.get(f"/devices/{other}/").status_code == 200
    assert s.get(f"/devices/{own}/").status_code == 404


def test_station_account_sees_one_station_everywhere(hub):
    c = client_for("tram27011")
    assert {r["facility_code"] for r in csv_rows(c.get("/fleet/export.csv"))} == {"27011"}
    assert {r["station_code"] for r in csv_rows(c.get("/use/export.csv"))} == {"27011"}
    assert {r["facility_code"] for r in csv_rows(c.get("/stays/export.csv"))} == {"27011"}
    body = c.get("/stays/").content.decode()
    assert 'data-record="501"' in body and 'data-record="101"' not in body
    body = c.get("/use/").content.decode()
    assert "27011" in body and "27001" not in body


def test_district_viewer_exports_and_pages_are_scoped(hub):
    c = client_for("dienchau")
    assert {r["station_code"] for r in csv_rows(c.get("/use/export.csv"))} <= DISTRICT_402
    assert {r["district"] for r in csv_rows(c.get("/use/export.csv?by=district"))} == {"402"}
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(c.get("/use/export.xlsx").content), read_only=True)
    codes = {row[1] for row in list(wb.worksheets[0].iter_rows(values_only=True))[1:]}
    assert codes and codes <= DISTRICT_402
    assert {r["facility_code"] for r in csv_rows(c.get("/stays/export.csv"))} <= DISTRICT_402
    roster = c.get("/roster/").content.decode()
    assert "dien-kim-1" in roster and "nghi-phong-1" not in roster
    devices = c.get("/devices/").content.decode()
    assert "dien-hai-1" in devices and "quynh-ba-1" not in devices


@pytest.mark.parametrize("user", ["nghiloc", "tram27011"])
def test_read_only_roles_cannot_act(hub, user):
    from kiosk_hub.registry.models import Device

    c = client_for(user)
    dev = hub["devices"]["dien-kim-1"]
    assert c.post("/devices/enrol", {"facility": "27011", "name": "sneaky-1"}).status_code == 403
    assert c.post(f"/devices/{dev}/revoke", {"reason": "x"}).status_code == 403
    assert c.post("/roster/upload", {}).status_code == 403
    assert c.get("/actions/").status_code == 403
    assert not Device.objects.filter(name="sneaky-1").exists()
    assert Device.objects.get(pk=dev).revoked_at is None
    page = c.get("/devices/").content.decode()
    assert 'action="/devices/enrol"' not in page
