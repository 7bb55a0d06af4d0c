from __future__ import annotations

import os
import sys
from datetime import datetime, timedelta
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


@pytest.fixture
def data_key(request, data_dir):
    """The device data key, laid out as the product does it and bound to the database, or None (clear_text).

    Production always seals identity fields (service_from_config, `kiosk datakey init`), so every fixture that
    builds the store or the check-in service uses a key; only tests about clear-text rows opt out, with
    `@pytest.mark.clear_text`. The key is where `kiosk` itself finds it for this data directory (beside it,
    `privacy.data_key_file` empty), so `kiosk` subprocesses in the same test open the same rows.
    """
    if request.node.get_closest_marker("clear_text"):
        yield None
        return
    from kiosk import config, store
    from kiosk.privacy import datakey
    cfg = config.load(None, str(data_dir), env={})
    key = datakey.load(cfg)  # creates it on first use, 0640, as the CLI does on a development machine
    db = store.connect(cfg.database)
    try:
        datakey.bind(db.conn, key)
    finally:
        db.conn.close()
    yield key
    datakey.register(cfg.database, None)


@pytest.fixture
def service(data_dir, clock, data_key):
    from kiosk.services.checkin import CheckinService
    from kiosk.eligibility.roster import DEMO_KEY
    return CheckinService(data_dir / "kiosk.db", facility_code="40123", roster_key=DEMO_KEY,
                          rescan_window=timedelta(minutes=10), clock=clock, data_key=data_key)


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
