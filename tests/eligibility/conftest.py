from __future__ import annotations

import pytest

from kiosk import store
from kiosk.eligibility.roster import DEMO_KEY


@pytest.fixture
def db(data_dir, data_key):
    """The kiosk's store as production has it: bound to a data key (tests/conftest.py `data_key`)."""
    return store.connect(data_dir / "kiosk.db")


@pytest.fixture
def key():
    return DEMO_KEY
