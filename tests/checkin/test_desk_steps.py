"""The desk's steps as the console calls them: each on a store.Database (its own transaction, its clock), or
joining the caller's transaction; reasons and corrections sealed at rest."""

from __future__ import annotations

import pytest

from kiosk import store
from kiosk.domain import ScanEvent
from kiosk.privacy import datakey
from kiosk.services import desk, staff
from kiosk.simulated import demo


@pytest.fixture
def visit(service):
    outcome = service.handle(ScanEvent(demo.ELIGIBLE_CCCD.encode(), "serial"))
    assert outcome.ok
    return outcome


@pytest.fixture
def admin(service):
    return staff.add(service.db, "Nguyễn Thị Mai", "040190000111", "385172", is_admin=True)


def test_change_state_stamps_with_the_database_clock_and_seals_the_reason(service, visit, admin, clock):
    clock.advance(minutes=3)
    row = desk.change_state(service.db, visit.visit_id, "cancelled", admin.id, reason="bệnh nhân về")
    assert row.status == "cancelled"
    history = desk.changes(service.db, visit.visit_id)
    assert [(h.action, h.staff) for h in history] == [("status", admin.full_name), ("status_reason", admin.full_name)]
    assert history[-1].new_value == "bệnh nhân về" and history[0].at == "2026-11-26T02:33:00Z"
    (stored,) = service.db.execute("SELECT new_value FROM visit_changes WHERE action = 'status_reason'").fetchone()
    assert datakey.is_sealed(stored)


def test_a_refused_transition_changes_nothing(service, visit, admin):
    with pytest.raises(desk.DeskError) as e:
        desk.change_state(service.db, visit.visit_id, "done", admin.id)  # waiting → done skips being_seen
    assert e.value.reason == "bad_transition"
    assert desk.changes(service.db, visit.visit_id) == []
    assert service.db.execute("SELECT count(*) FROM outbox WHERE kind = 'visit_update'").fetchone()[0] == 0


def test_steps_in_one_caller_transaction_commit_or_roll_back_together(service, visit, admin):
    with pytest.raises(RuntimeError):
        with store.transaction(service.db) as tx:
            desk.add_service(tx, visit.visit_id, "kham_benh", admin.id)
            desk.record_change(tx, visit.visit_id, admin.id, "manual_entry", field="kind", new="id_number")
            raise RuntimeError("the printer caught fire")
    assert desk.get_row(service.db, visit.visit_id).services == []
    assert desk.changes(service.db, visit.visit_id) == []
    with store.transaction(service.db) as tx:
        desk.add_service(tx, visit.visit_id, "kham_benh", admin.id)
        desk.record_change(tx, visit.visit_id, admin.id, "manual_entry", field="kind", new="id_number")
    assert desk.get_row(service.db, visit.visit_id).services == ["kham_benh"]
    assert [h.action for h in desk.changes(service.db, visit.visit_id)] == ["service_added", "manual_entry"]


def test_visit_by_number_finds_the_days_ticket(service, visit):
    assert desk.visit_by_number(service.db, visit.visit_date, visit.queue_number).visit_id == visit.visit_id
    assert desk.visit_by_number(service.db, visit.visit_date, visit.queue_number + 1) is None
    assert desk.visit_by_number(service.db, "2026-11-25", visit.queue_number) is None


def test_record_change_refuses_an_unknown_visit(service, admin):
    with pytest.raises(desk.DeskError):
        desk.record_change(service.db, 999, admin.id, "manual_entry")
