"""The dashboard in a real browser (headless Chromium) against a live `kiosk-hub serve` on loopback:
sign in, the fleet with a stale kiosk highlighted, district filter, a district viewer's limits, enrol a
kiosk and read its token, revoke it and see its next sync refused, stays with the overdue one first,
download the CSV; screenshots of every page in both languages (docs/screens/hub/ when
KIOSK_HUB_SCREENS_DIR says so, see conftest.py)."""

from __future__ import annotations

import csv
import json
import time
import urllib.error
import urllib.request

import pytest

from tests.hub import dashboard_data as dd
from tests.hub.browser.conftest import SCREENS


def wait_for(cond, timeout: float = 20.0, what: str = "condition"):
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            value = cond()
        except (StaleElementReferenceException, NoSuchElementException):
            value = None  # the page is being replaced: look again
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def sign_in(driver, base: str, username: str, password: str = dd.PASSWORD) -> None:
    from selenium.webdriver.common.by import By

    driver.get(base + "/accounts/login/")
    driver.find_element(By.ID, "id_username").send_keys(username)
    driver.find_element(By.ID, "id_password").send_keys(password)
    driver.find_element(By.ID, "sign-in").click()
    wait_for(lambda: "/accounts/login/" not in driver.current_url, what="sign-in")


def rows(driver, table_id: str) -> list:
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, f"#{table_id} tbody tr[data-device], #{table_id} tbody tr[data-record]")


def device_request(base: str, token: str, path: str = "/v1/roster/updates") -> tuple[int, dict]:
    req = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def test_sign_in_and_fleet_highlights_the_stale_kiosk(dash_hub, browser):
    from selenium.webdriver.common.by import By

    base = dash_hub["url"]
    browser.get(base + "/fleet/")
    assert "/accounts/login/" in browser.current_url  # signed out: the login page
    sign_in(browser, base, "admin")
    assert browser.current_url.rstrip("/").endswith("/fleet")
    stale = browser.find_element(By.CSS_SELECTOR, '#fleet tr[data-device="nghi-xuan-1"]')
    ok = browser.find_element(By.CSS_SELECTOR, '#fleet tr[data-device="nghi-phong-1"]')
    assert stale.get_attribute("data-state") == "stale" and ok.get_attribute("data-state") == "ok"
    cell = stale.find_element(By.CSS_SELECTOR, "td")
    ok_cell = ok.find_element(By.CSS_SELECTOR, "td")
    # Highlighted as the browser draws it: another background and a marker border.
    assert cell.value_of_css_property("background-color") != ok_cell.value_of_css_property("background-color")
    assert cell.value_of_css_property("border-left-width") == "4px"
    assert "Mất liên lạc" in stale.text  # Vietnamese first
    faulty = browser.find_element(By.CSS_SELECTOR, '#fleet tr[data-device="dien-kim-1"]')
    assert faulty.get_attribute("data-state") == "faulty"


def test_filter_by_district(dash_hub, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    base = dash_hub["url"]
    sign_in(browser, base, "admin")
    browser.get(base + "/fleet/")
    assert len(rows(browser, "fleet")) >= 6
    Select(browser.find_element(By.ID, "f-district")).select_by_value("402")
    browser.find_element(By.ID, "apply-filter").click()
    wait_for(lambda: "district=402" in browser.current_url, what="filtered page")
    names = {r.get_attribute("data-device") for r in rows(browser, "fleet")}
    assert names and names <= {"dien-kim-1", "dien-hai-1", "dien-hai-2"}
    assert "dien-kim-1" in names


def test_district_viewer_cannot_see_another_district(dash_hub, browser):
    from selenium.webdriver.common.by import By

    base = dash_hub["url"]
    sign_in(browser, base, "nghiloc")
    browser.get(base + "/fleet/?district=402")
    names = {r.get_attribute("data-device") for r in rows(browser, "fleet")}
    assert names == {"nghi-phong-1", "nghi-xuan-1"}
    options = [o.get_attribute("value") for o in browser.find_elements(By.CSS_SELECTOR, "#f-district option")]
    assert options == ["", "401"]
    assert "dien-kim-1" not in browser.page_source
    # Another district's kiosk by address: not found. An admin page: forbidden.
    browser.get(base + "/devices/")
    pks = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "#devices a")]
    assert pks and all("/devices/" in p for p in pks)
    assert "dien-kim-1" not in browser.page_source and not browser.find_elements(By.ID, "enrol")
    browser.get(base + "/actions/")
    assert "403" in browser.title or "Forbidden" in browser.page_source or "403" in browser.page_source


def test_enrol_read_the_token_revoke_and_the_kiosk_is_refused(dash_hub, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    base = dash_hub["url"]
    sign_in(browser, base, "admin")
    browser.get(base + "/devices/")
    Select(browser.find_element(By.ID, "id_facility")).select_by_value("27022")
    browser.find_element(By.ID, "id_name").send_keys("quynh-ba-2")
    browser.find_element(By.ID, "enrol-submit").click()
    token = wait_for(lambda: browser.find_elements(By.ID, "token"), what="token").pop().text.strip()
    assert len(token) >= 40
    assert browser.find_element(By.CSS_SELECTOR, "#token-qr svg").is_displayed()
    if dash_hub["engine"] == "sqlite":
        SCREENS.mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(SCREENS / "enrolled-vi.png"))
    status, body = device_request(base, token)
    assert status == 200, body
    # Revoke from the device page.
    browser.get(base + "/devices/")
    browser.find_element(By.LINK_TEXT, "quynh-ba-2").click()
    browser.find_element(By.ID, "id_reason").send_keys("test: stolen")
    browser.find_element(By.ID, "revoke-submit").click()
    wait_for(lambda: not browser.find_elements(By.ID, "revoke-form"), what="revoked page")
    assert "test: stolen" in browser.find_element(By.ID, "device-state").text
    status, body = device_request(base, token)
    assert status == 403 and body["error"] == "device_revoked"


def test_stays_page_lists_the_overdue_stay_first(dash_hub, browser):
    """Overdue first: the station whose kiosk's heartbeat says its earliest open stay is past its deadline
    (not yet sent), drawn as overdue; then, among the notifications the hub received, the late one first."""
    from selenium.webdriver.common.by import By

    base = dash_hub["url"]
    sign_in(browser, base, "admin")
    browser.get(base + "/stays/")
    waiting = browser.find_elements(By.CSS_SELECTOR, "#open-stays tbody tr[data-station]")
    assert [r.get_attribute("data-urgency") for r in waiting[:2]] == ["overdue", "due-soon"]
    first = waiting[0]
    assert first.get_attribute("data-station") == "27001"
    cell, later = first.find_element(By.CSS_SELECTOR, "td"), waiting[-1].find_element(By.CSS_SELECTOR, "td")
    assert cell.value_of_css_property("border-left-width") == "4px"     # highlighted as the browser draws it
    assert cell.value_of_css_property("background-color") != later.value_of_css_property("background-color")
    assert browser.find_element(By.ID, "overdue-count").text.strip() == "1"
    received = rows(browser, "stays")
    assert received[0].get_attribute("data-record") == "101"
    assert received[0].get_attribute("data-urgency") == "late"
    assert {r.get_attribute("data-urgency") for r in received[2:]} == {"on-time"}
    assert "0010******45" in received[0].text and dd.SECRET_ID not in browser.page_source
    assert browser.find_element(By.ID, "late-count").text.strip() == "2"


def test_download_the_reader_use_csv(dash_hub, browser):
    from selenium.webdriver.common.by import By

    base = dash_hub["url"]
    sign_in(browser, base, "dienchau")
    browser.get(base + "/use/")
    browser.find_element(By.ID, "export-csv").click()
    path = wait_for(lambda: [p for p in browser.downloads.glob("*.csv")], what="CSV download")[0]
    wait_for(lambda: path.stat().st_size > 0, what="CSV written")
    with open(path, encoding="utf-8-sig", newline="") as f:
        data = list(csv.DictReader(f))
    assert data and {r["station_code"] for r in data} <= {"27011", "27012"}
    assert sum(int(r["bhyt_qr"]) for r in data if r["station_code"] == "27011") > 0
    # Weeks and months are truncated by the database engine itself: both render, with both charts.
    for query in ("?by=district&period=week", "?period=month"):
        browser.get(base + "/use/" + query)
        assert len(browser.find_elements(By.CSS_SELECTOR, "svg.chart")) == 2
        assert browser.find_elements(By.CSS_SELECTOR, "#use-table tbody tr")


PAGES = [("login", "/accounts/login/"), ("fleet", "/fleet/"), ("use", "/use/"),
         ("use-district-week", "/use/?by=district&period=week"), ("stays", "/stays/"), ("devices", "/devices/"),
         ("device", None), ("roster", "/roster/"), ("actions", "/actions/")]


def test_screenshots_in_both_languages(dash_hub, browser):
    """Every page at 1366×768 in Vietnamese and English, and the fleet on a phone."""
    from selenium.webdriver.common.by import By

    if dash_hub["engine"] != "sqlite":
        pytest.skip("screenshots are taken once, on the SQLite run")
    base = dash_hub["url"]
    SCREENS.mkdir(parents=True, exist_ok=True)
    browser.get(base + "/accounts/login/")
    browser.save_screenshot(str(SCREENS / "login-vi.png"))
    sign_in(browser, base, "admin")
    browser.get(base + "/devices/")
    device_url = browser.find_element(By.LINK_TEXT, "nghi-phong-1").get_attribute("href")
    for lang in ("vi", "en"):
        browser.get(base + "/fleet/")
        current = browser.find_element(By.TAG_NAME, "html").get_attribute("lang")
        if current != lang:
            browser.find_element(By.ID, f"lang-{lang}").click()
            wait_for(lambda: browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang, what=lang)
        for name, url in PAGES:
            if name == "login":
                continue
            browser.get(device_url if url is None else base + url)
            assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == lang
            browser.save_screenshot(str(SCREENS / f"{name}-{lang}.png"))
    browser.set_window_size(412, 915)
    browser.get(base + "/fleet/")
    browser.save_screenshot(str(SCREENS / "fleet-phone-en.png"))
    # The page fits the phone's width (tables become cards).
    assert browser.execute_script("return document.documentElement.scrollWidth") <= 420
