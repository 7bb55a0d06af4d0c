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


def test_console_status_reads_what_the_status_page_shows(seeded):
    """One read for the page: unsent records and refused ones apart, the roster's date, today's unverified."""
    from kiosk.domain import ScanEvent
    from kiosk.simulated import demo
    from kiosk.store import outbox, transaction, views
    seeded.handle(ScanEvent(demo.ELIGIBLE_CCCD.encode(), "serial"))  # on the roster
    seeded.handle(ScanEvent(demo.UNKNOWN_CCCD.encode(), "serial"))  # not on it, offline: unverified
    before = views.console_status(seeded.db)
    assert before.unverified_today == 1 and before.roster_as_of is not None
    assert before.sync.waiting == outbox.unsent_count(seeded.db) > 0 and before.sync.needs_manual == 0
    with transaction(seeded.db) as tx:
        outbox.needs_manual(tx, 1, "refused by the hub")
    after = views.console_status(seeded.db)
    assert (after.sync.waiting, after.sync.needs_manual) == (before.sync.waiting - 1, 1)
    assert after.sync.waiting + after.sync.needs_manual == outbox.pending_count(seeded.db)
