"""Sync tests talk HTTP(S) to the real hub (`kiosk-hub serve`, hub/) on loopback: a shared one with a device of
each test's own (`hub`), or one of the test's own (`start_hub`). See tests/hubproc.py."""

from __future__ import annotations

import time

from tests.hubproc import KioskHub, hub, kiosk_hub_server, start_hub  # noqa: F401  (fixtures and helpers)


def wait_until(pred, timeout: float = 10.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.05)
    return pred()
