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


@pytest.fixture
def service(data_dir, clock):
    from kiosk.checkin import CheckinService
    from kiosk.roster import DEMO_KEY
    return CheckinService(data_dir / "kiosk.db", facility_code="40123", roster_key=DEMO_KEY,
                          rescan_window=timedelta(minutes=10), clock=clock)


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
