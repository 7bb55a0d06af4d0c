"""The console's status page says what needs action: sync stopped, refused records, scanner in keyboard mode."""

import pytest

pytest.importorskip("PySide6")

from drivers.protocols import SWITCH_TO_SERIAL, DeviceStatus  # noqa: E402
from kiosk.store.views import SyncSummary  # noqa: E402


def test_problem_line_priorities(qtbot, console):
    c = console
    c.status.on_status(DeviceStatus("scanner", False, SWITCH_TO_SERIAL))
    assert "serial (USB COM)" in c.status.problem.text() or "USB COM" in c.status.problem.text()
    c.status._sync = SyncSummary(waiting=0, needs_manual=3, last_success=None, token_refused=None)
    c.status._render_problem()
    assert "3" in c.status.problem.text()
    c.status._sync = SyncSummary(waiting=0, needs_manual=3, last_success=None, token_refused="device_revoked")
    c.status._render_problem()
    assert c.status.problem.text() and "3" not in c.status.problem.text()
    c.status._sync = SyncSummary(waiting=0, needs_manual=0, last_success=None, token_refused=None)
    c.status.on_status(DeviceStatus("scanner", True, "ttyACM0"))
    assert c.status.problem.text() == ""
