"""Dashboard: registering and revoking HIS clients (FHIR bearer credentials), province admins only
(Django test client, in process; the seeded province of tests/hub/dashboard_data.py)."""

from __future__ import annotations

import hashlib

import pytest

pytest.importorskip("django")
pytest.importorskip("kiosk_hub")

from tests.hub import dashboard_data as dd  # noqa: E402


@pytest.fixture(scope="module", params=dd.ENGINES)
def hub(request, tmp_path_factory):
    """The seeded province on a database of this module's own, on each engine in turn."""
    return dd.module_database(request.param, request, tmp_path_factory)


def client_for(username: str):
    from django.contrib.auth.models import User
    from django.test import Client

    c = Client(enforce_csrf_checks=True)
    c.force_login(User.objects.get(username=username))
    return c


def csrf_post(c, url: str, data: dict):
    """A POST as the browser sends it: the CSRF token from the HIS page's form."""
    page = c.get("/his/")
    data = {**data, "csrfmiddlewaretoken": page.content.decode().split('name="csrfmiddlewaretoken" value="')[1]
            .split('"')[0]} if page.status_code == 200 else dict(data)
    return c.post(url, data)


def fhir_get(url: str, token: str):
    from django.test import Client

    return Client().get(url, HTTP_AUTHORIZATION=f"Bearer {token}")


def shown_token(resp) -> str:
    return resp.content.decode().split('id="token">')[1].split("<")[0].strip()


def test_admin_registers_a_client_its_token_is_shown_once_and_works(hub):
    from kiosk_hub.fhir.models import HisClient
    from kiosk_hub.registry.models import AdminAction

    c = client_for("admin")
    page = c.get("/his/").content.decode()
    assert 'action="/his/add"' in page and 'value="27001"' in page
    assert "Đăng ký phần mềm HIS" in page          # the catalogue's Vietnamese (the hub's default language)
    r = csrf_post(c, "/his/add", {"name": "his-nghi-phong", "facilities": ["27001", "27002"]})
    assert r.status_code == 200
    assert "no-store" in r["Cache-Control"]
    assert "Đã đăng ký phần mềm HIS his-nghi-phong" in r.content.decode()
    token = shown_token(r)
    assert len(token) >= 40
    client = HisClient.objects.get(name="his-nghi-phong")
    assert client.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert sorted(client.facilities.values_list("code", flat=True)) == ["27001", "27002"]
    assert AdminAction.objects.filter(actor="admin", action="his_add", target="his-nghi-phong").exists()
    # The token reads the FHIR API; the HIS page never shows it again.
    assert fhir_get("/fhir/R4/Encounter?_count=1", token).status_code == 200
    assert fhir_get("/fhir/R4/Encounter?_count=1", "x" + token).status_code == 401
    page = c.get("/his/").content.decode()
    assert token not in page and 'data-client="his-nghi-phong"' in page
    # The same name again is refused, and the first token still stands.
    again = csrf_post(c, "/his/add", {"name": "his-nghi-phong", "facilities": ["27001"]})
    assert 'id="his-name-error"' in again.content.decode() and 'id="token"' not in again.content.decode()
    assert HisClient.objects.get(name="his-nghi-phong").token_hash == client.token_hash


def test_admin_revokes_a_client_and_its_token_stops_working(hub):
    from kiosk_hub.fhir.models import HisClient, PushEndpoint
    from kiosk_hub.registry.models import AdminAction

    c = client_for("admin")
    r = csrf_post(c, "/his/add", {"name": "his-dien-kim", "facilities": ["27011"],
                                  "push_url": "http://127.0.0.1:8999/fhir", "push_token": "his-secret"})
    token = shown_token(r)
    client = HisClient.objects.get(name="his-dien-kim")
    ep = PushEndpoint.objects.get(client=client)
    assert (ep.url, ep.token) == ("http://127.0.0.1:8999/fhir", "his-secret")
    assert "his-secret" not in r.content.decode()
    assert fhir_get("/fhir/R4/Encounter?_count=1", token).status_code == 200
    assert f'action="/his/{client.pk}/revoke"' in c.get("/his/").content.decode()
    r = csrf_post(c, f"/his/{client.pk}/revoke", {})
    assert r.status_code == 302 and r["Location"] == "/his/"
    client.refresh_from_db()
    assert client.revoked_at is not None
    assert AdminAction.objects.filter(actor="admin", action="his_revoke", target="his-dien-kim").exists()
    assert fhir_get("/fhir/R4/Encounter?_count=1", token).status_code in (401, 403)
    page = c.get("/his/").content.decode()
    assert f'action="/his/{client.pk}/revoke"' not in page
    # A CSRF-less POST (a forged form on another site) is refused.
    from django.test import Client
    from django.contrib.auth.models import User

    bare = Client(enforce_csrf_checks=True)
    bare.force_login(User.objects.get(username="admin"))
    assert bare.post("/his/add", {"name": "his-forged", "facilities": ["27001"]}).status_code == 403
    assert not HisClient.objects.filter(name="his-forged").exists()


@pytest.mark.parametrize("user", ["nghiloc", "tram27011"])
def test_other_roles_can_neither_register_nor_revoke(hub, user):
    from kiosk_hub.fhir import clients
    from kiosk_hub.fhir.models import HisClient

    target, token = clients.add(f"his-target-{user}", ["27001"], actor="test")
    c = client_for(user)
    assert c.get("/his/").status_code == 403
    assert csrf_post(c, "/his/add", {"name": f"his-sneaky-{user}", "facilities": ["27001"]}).status_code == 403
    assert csrf_post(c, f"/his/{target.pk}/revoke", {}).status_code == 403
    # Even without CSRF enforcement the role check refuses.
    from django.contrib.auth.models import User
    from django.test import Client

    lax = Client()
    lax.force_login(User.objects.get(username=user))
    assert lax.post("/his/add", {"name": f"his-sneaky-{user}", "facilities": ["27001"]}).status_code == 403
    assert lax.post(f"/his/{target.pk}/revoke", {}).status_code == 403
    assert not HisClient.objects.filter(name=f"his-sneaky-{user}").exists()
    target.refresh_from_db()
    assert target.revoked_at is None
    assert fhir_get("/fhir/R4/Encounter?_count=1", token).status_code == 200


@pytest.mark.parametrize("url", ["http://his.example.vn/fhir", "http://10.0.0.5/fhir", "ftp://his.example.vn/",
                                 "https://user:pw@his.example.vn/fhir", "his.example.vn"])
def test_plain_http_push_url_off_loopback_is_refused(hub, url):
    from kiosk_hub.fhir.models import HisClient

    c = client_for("admin")
    r = csrf_post(c, "/his/add", {"name": "his-insecure", "facilities": ["27001"], "push_url": url})
    body = r.content.decode()
    assert r.status_code == 200 and 'id="his-url-error"' in body and 'id="token"' not in body
    assert not HisClient.objects.filter(name="his-insecure").exists()


def test_form_refuses_unknown_facility_and_a_token_without_url(hub):
    from kiosk_hub.fhir.models import HisClient

    c = client_for("admin")
    r = csrf_post(c, "/his/add", {"name": "his-bad", "facilities": ["99999"]})
    assert 'id="his-facilities-error"' in r.content.decode()
    r = csrf_post(c, "/his/add", {"name": "his-bad", "facilities": []})
    assert 'id="his-facilities-error"' in r.content.decode()
    r = csrf_post(c, "/his/add", {"name": "his-bad", "facilities": ["27001"], "push_token": "t"})
    assert 'id="his-url-error"' in r.content.decode()
    assert not HisClient.objects.filter(name="his-bad").exists()
    ok = csrf_post(c, "/his/add", {"name": "his-https", "facilities": ["27001"],
                                   "push_url": "https://his.example.vn/fhir/"})
    assert 'id="token"' in ok.content.decode()
    from kiosk_hub.fhir.models import PushEndpoint

    assert PushEndpoint.objects.get(client__name="his-https").url == "https://his.example.vn/fhir"
