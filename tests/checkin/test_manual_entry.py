"""A check-in typed at the desk as the console runs it: one service call, the visit and who typed it."""

from __future__ import annotations

import pytest

from kiosk.errors import UnavailableError
from kiosk.services import desk, manual_entry, staff
from kiosk.services.checkin import Checkin, Refusal
from kiosk.services.manual_entry import manual_document


@pytest.fixture
def admin(service):
    return staff.add(service.db, "Nguyễn Thị Mai", "040190000111", "385172", is_admin=True)


def test_the_visit_is_manual_and_the_change_log_names_who_typed_it(service, admin, clock):
    doc = manual_document("id_number", "040192003456", "Hoàng Văn Minh", "03/04/1992", "nam")
    outcome = manual_entry.check_in(service, doc, admin.id)
    assert isinstance(outcome, Checkin) and not outcome.existing and outcome.queue_number == 1
    row = desk.get_row(service.db, outcome.visit_id)
    assert row.source == "manual" and "manual_entry" in row.flags and row.masked_id == "********3456"
    assert [(c.action, c.field, c.new_value, c.staff, c.at) for c in desk.changes(service.db, outcome.visit_id)] == [
        ("manual_entry", "kind", "id_number", admin.full_name, "2026-11-26T02:30:00Z")]


def test_a_foreigner_by_passport(service, admin):
    doc = manual_document("passport", "x1234567", "Marie Dupont", "", "", "fra")
    outcome = manual_entry.check_in(service, doc, admin.id)
    assert isinstance(outcome, Checkin) and outcome.patient["document_kind"] == "manual_passport"
    assert {"manual_entry", "foreign_passport"} <= set(outcome.flags)
    changes = desk.changes(service.db, outcome.visit_id)
    assert [(c.action, c.new_value) for c in changes] == [("manual_entry", "passport")]


def test_typed_again_within_the_window_is_the_same_visit_with_a_second_line(service, admin, clock):
    doc = manual_document("bhyt", "HS4400195001234", "Trần Thị Lan Anh", "12/05/1995", "female")
    first = manual_entry.check_in(service, doc, admin.id)
    clock.advance(minutes=2)
    again = manual_entry.check_in(service, doc, admin.id)
    assert isinstance(again, Checkin) and again.existing and again.visit_id == first.visit_id
    assert [c.action for c in desk.changes(service.db, first.visit_id)] == ["manual_entry", "manual_entry"]


def test_a_refusal_records_nothing(service, admin, monkeypatch):
    def full(*a, **k):
        raise UnavailableError("the storage is full: nothing was saved; free space and try again")
    monkeypatch.setattr("kiosk.services.checkin.outbox.enqueue", full)
    doc = manual_document("id_number", "040192003456", "Hoàng Văn Minh")
    outcome = manual_entry.check_in(service, doc, admin.id)
    assert isinstance(outcome, Refusal) and outcome.reason == "storage"
    assert service.db.execute("SELECT count(*) FROM visits").fetchone()[0] == 0
    assert service.db.execute("SELECT count(*) FROM visit_changes").fetchone()[0] == 0

