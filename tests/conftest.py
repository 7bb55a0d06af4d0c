from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture
def data_dir(tmp_path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    return d


@pytest.fixture
def clock():
    from kiosk.clock import FixedClock, VN_TZ
    return FixedClock(datetime(2026, 11, 26, 9, 30, tzinfo=VN_TZ))


def pytest_configure(config):
    config.addinivalue_line("markers", "clear_text: the test is about rows written without a data key; the "
                            "`data_key` fixture (and so `service`) gives None instead of the production key")


FACILITY = "40123"  # the station the tests' visits belong to


@pytest.fixture
def kiosk_config(data_dir):
    """The shipped defaults, with the data in this test's directory and the tests' facility."""
    from kiosk import config
    cfg = config.load(None, str(data_dir), env={})
    return config.Config({**cfg.values, "facility.code": FACILITY}, cfg.source)


@pytest.fixture
def app(request, kiosk_config, clock):
    """The kiosk as production builds it (kiosk.app.build): the device data key laid out and bound to the
    database, the roster key, the fixed clock; no devices.

    Production always seals identity fields, so every fixture that builds the store or the check-in service
    uses the key; only tests about clear-text rows opt out, with `@pytest.mark.clear_text` (the same App
    without a data key). The key is where `kiosk` itself finds it for this data directory (beside it,
    `privacy.data_key_file` empty), so `kiosk` subprocesses in the same test open the same rows.
    """
    from kiosk.app import App, build
    from kiosk.eligibility import roster
    if request.node.get_closest_marker("clear_text"):
        return App(kiosk_config, clock, None, roster.load_key(kiosk_config["roster.key_file"]))
    return build(kiosk_config, "none", clock=clock)


@pytest.fixture
def data_key(app):
    """The device data key (None for `clear_text` tests)."""
    return app.data_key


@pytest.fixture
def service(app):
    """The check-in service on its own connection (with the data key and the fixed clock)."""
    svc = app.checkin_service()
    yield svc
    svc.db.close()


def kiosk_cmd(*args: str) -> list[str]:
    """The installed `kiosk` console script (the real entry point), run with this interpreter's venv."""
    exe = Path(sys.executable).with_name("kiosk")
    return [str(exe), *args] if exe.exists() else [sys.executable, "-m", "kiosk", *args]


@pytest.fixture
def kiosk_env(data_dir):
    env = dict(os.environ)
    env.pop("KIOSK_CONFIG", None)
    env["KIOSK_DATA_DIR"] = str(data_dir)
    return env
