from __future__ import annotations

import pytest

from kiosk.eligibility.roster import DEMO_KEY


@pytest.fixture
def db(app):
    """The kiosk's store as production opens it (kiosk.app.build: the data key and the test's clock)."""
    db = app.database()
    yield db
    db.close()


@pytest.fixture
def key():
    return DEMO_KEY
