from __future__ import annotations

from pathlib import Path

import pytest

PROFILES = Path(__file__).resolve().parents[2] / "drivers/cccd_emulator/profiles"


@pytest.fixture(scope="session")
def pki():
    from drivers.cccd_emulator.pki import TestPki
    return TestPki.generate()


@pytest.fixture(scope="session")
def other_pki():
    from drivers.cccd_emulator.pki import TestPki
    return TestPki.generate("TEST CSCA Elsewhere")


def profile(name: str, **card):
    from drivers.cccd_emulator import load_profile
    p = load_profile(PROFILES / f"{name}.json")
    return p.with_card(**card) if card else p
