"""A live hub (`kiosk-hub serve` on loopback, seeded province) and a headless Chromium for the dashboard.

Chromium and its driver are Debian's (`chromium`, `chromium-driver`); Selenium is told where the driver is and
SE_OFFLINE=true keeps Selenium Manager off the network. Without them the tests skip and say why.
"""

from __future__ import annotations

import os
import secrets
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
# Screenshots go to a scratch directory unless asked for: regenerate the committed ones with
#   KIOSK_HUB_SCREENS_DIR=docs/screens/hub .venv/bin/python -m pytest tests/hub/browser -k sqlite
SCREENS = Path(os.environ.get("KIOSK_HUB_SCREENS_DIR") or "/tmp/kiosk-hub-screens").resolve()


def _missing() -> str | None:
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        return ("Debian's chromium and chromium-driver are not installed "
                "(apt-get install -y --no-install-recommends chromium chromium-driver)")
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e 'hub/[test]')"
    return None


def pytest_collection_modifyitems(config, items):
    reason = _missing()
    if reason:
        for item in items:
            if "/browser/" in str(item.fspath):
                item.add_marker(pytest.mark.skip(reason=reason))


def _kiosk_hub() -> list[str]:
    exe = Path(sys.executable).parent / "kiosk-hub"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "kiosk_hub.cli"]


def _engines():
    return ["sqlite", "postgres"]


@pytest.fixture(scope="module", params=_engines())
def dash_hub(request, tmp_path_factory):
    """(base URL, env) of a seeded hub served by gunicorn on 127.0.0.1, on SQLite or on the session's PostgreSQL."""
    data = tmp_path_factory.mktemp(f"dash-hub-{request.param}")
    env = {**os.environ, "KIOSK_HUB_DATA_DIR": str(data), "KIOSK_HUB_SECRET_KEY": secrets.token_urlsafe(32),
           "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "hub"), os.environ.get("PYTHONPATH", "")])}
    if request.param == "postgres":
        try:
            pg = request.getfixturevalue("pg_cluster")
        except pytest.FixtureLookupError:
            pytest.skip("no PostgreSQL fixture (pg_cluster) in tests/hub/conftest.py")
        env["KIOSK_HUB_DATABASE_URL"] = pg.create_db(f"dash_{secrets.token_hex(4)}")
    else:
        env["KIOSK_HUB_DATABASE_URL"] = f"sqlite:///{data / 'hub.db'}"
    subprocess.run([sys.executable, "-m", "tests.hub.dashboard_data"], cwd=ROOT, env=env, check=True, timeout=300)
    proc = subprocess.Popen([*_kiosk_hub(), "serve", "--bind", "127.0.0.1:0", "--workers", "2"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        line = proc.stdout.readline() if ready else ""
        if not line.startswith("hub listening on "):
            proc.kill()
            pytest.fail(f"kiosk-hub serve did not start: {line!r} {proc.stderr.read()[-2000:]}")
        url = line.split("hub listening on ", 1)[1].strip().rstrip("/")
        yield {"url": url, "env": env, "engine": request.param}
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


@pytest.fixture
def browser(tmp_path):
    """Headless Chromium at 1366×768 with a fresh profile; downloads go to tmp_path/downloads."""
    os.environ["SE_OFFLINE"] = "true"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--window-size=1366,768", "--lang=vi",
                f"--user-data-dir={tmp_path / 'profile'}"):
        opts.add_argument(arg)
    if os.geteuid() == 0:
        opts.add_argument("--no-sandbox")
    opts.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                           "download.prompt_for_download": False,
                                           "intl.accept_languages": "vi,en"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=opts)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.set_page_load_timeout(60)
    driver.downloads = downloads
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(tmp_path / "profile", ignore_errors=True)
