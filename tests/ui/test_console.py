"""The receptionist console through the real bridge: sign-in, lockout, queue, manual entry, stays, export."""

import csv

import pytest

pytest.importorskip("PySide6")

from kiosk.simulated import demo  # noqa: E402
from tests.ui.conftest import sign_in  # noqa: E402
from tests.ui.ui_text import visible_text  # noqa: E402


def _checkin(qtbot, kiosk, scanner, payload):
    kiosk.last_outcome = None
    scanner.scan(payload)
    qtbot.waitUntil(lambda: kiosk.last_outcome is not None, timeout=5000)
    return kiosk.last_outcome


def test_sign_in_wrong_pin_then_lockout_survives_the_right_pin(qtbot, console, staff_accounts, seeded):
    from kiosk.services import staff
    admin, rec = staff_accounts
    refused = "Mã PIN không được chấp nhận"
    for _ in range(5):
        console.login.message.setText("")
        sign_in(qtbot, console, rec.id, "0000")
        qtbot.waitUntil(lambda: refused in console.login.message.text(), timeout=5000)
    assert console.current == "login"
    assert staff.get(seeded.db, rec.id).locked_until  # locked after max_attempts (5)
    console.login.message.setText("")
    sign_in(qtbot, console, rec.id, "4826")  # right PIN, but locked: the same words as a wrong PIN
    qtbot.waitUntil(lambda: refused in console.login.message.text(), timeout=5000)
    assert "khóa đến" not in console.login.message.text() and "Còn" not in console.login.message.text()
    assert console.current == "login" and console.session is None
    assert console.login.pin.text() == ""  # a PIN never stays in the field


def test_sign_in_and_auto_lock_forgets_the_screen(qtbot, console, staff_accounts, kiosk, scanner):
    admin, _ = staff_accounts
    _checkin(qtbot, kiosk, scanner, demo.ELIGIBLE_CCCD)
    console._lock_timer.setInterval(400)
    sign_in(qtbot, console, admin.id, "385172")
    qtbot.waitUntil(lambda: console.current == "queue" and len(console.queue.rows) == 1, timeout=5000)
    assert "Trần Thị Lan Anh" in visible_text(console)
    assert console.tabs["staff"].isVisible()
    qtbot.waitUntil(lambda: console.current == "login", timeout=3000)
    assert console.queue.rows == [] and console.queue.table.rowCount() == 0
    assert "Trần Thị Lan Anh" not in visible_text(console, include_hidden_pages=True)


def test_receptionist_has_no_staff_admin(qtbot, console, staff_accounts):
    _, rec = staff_accounts
    sign_in(qtbot, console, rec.id, "4826")
    qtbot.waitUntil(lambda: console.current == "queue", timeout=5000)
    assert not console.tabs["staff"].isVisible()
    console.show_page("staff")
    assert console.current == "queue"


def test_queue_actions_are_recorded_with_who(qtbot, console, staff_accounts, kiosk, scanner, seeded):
    from kiosk.services import desk
    admin, _ = staff_accounts
    first = _checkin(qtbot, kiosk, scanner, demo.ELIGIBLE_CCCD)
    second = _checkin(qtbot, kiosk, scanner, demo.EXPIRED_CCCD)
    sign_in(qtbot, console, admin.id, "385172")
    qtbot.waitUntil(lambda: len(console.queue.rows) == 2, timeout=5000)
    console.queue.call_next.click()
    qtbot.waitUntil(lambda: console.queue.rows and console.queue.rows[0].status == "being_seen", timeout=5000)
    assert "Đang gọi số 1" in console.queue.message.text()
    console.queue.table.selectRow(0)
    console.queue.done.click()
    qtbot.waitUntil(lambda: console.queue.rows[0].status == "done", timeout=5000)
    console.queue.table.selectRow(1)
    console.queue.left.click()
    qtbot.waitUntil(lambda: console.queue.rows[1].status == "left", timeout=5000)
    # A mistaken "left" can be undone; cancelling is not possible from "done".
    console.queue.table.selectRow(0)
    console.queue.cancel.click()
    qtbot.waitUntil(lambda: "Không thể thay đổi" in console.queue.message.text(), timeout=5000)
    # Add a second service and correct a name.
    console.queue.table.selectRow(1)
    console.queue.add_service.click()
    console.queue.edit_choice.setCurrentIndex(1)
    console.queue.edit_apply.click()
    qtbot.waitUntil(lambda: console.queue.rows[1].services == ["tiem_chung"], timeout=5000)
    console.queue.table.selectRow(1)
    console.queue.correct.click()
    console.queue.edit_choice.setCurrentIndex(0)
    console.queue.edit_value.setText("Lê Văn Bính")
    console.queue.edit_apply.click()
    qtbot.waitUntil(lambda: console.queue.rows[1].full_name == "Lê Văn Bính", timeout=5000)
    history = desk.changes(seeded.db, second.visit_id)
    assert [(h.action, h.staff) for h in history] == [
        ("status", "Nguyễn Thị Mai"), ("service_added", "Nguyễn Thị Mai"), ("corrected", "Nguyễn Thị Mai")]
    assert desk.get_row(seeded.db, first.visit_id).status == "done"


def test_search_by_name_without_accents_and_by_id_digits(qtbot, console, staff_accounts, kiosk, scanner):
    admin, _ = staff_accounts
    for p in (demo.ELIGIBLE_CCCD, demo.EXPIRED_CCCD, demo.UNKNOWN_CCCD):
        _checkin(qtbot, kiosk, scanner, p)
    sign_in(qtbot, console, admin.id, "385172")
    qtbot.waitUntil(lambda: len(console.queue.rows) == 3, timeout=5000)
    console.queue.search.setText("le van binh")
    console.queue.search_button.click()
    qtbot.waitUntil(lambda: len(console.queue.rows) == 1, timeout=5000)
    assert console.queue.rows[0].full_name == "Lê Văn Bình"
    console.queue.search.setText("040088007777")
    console.queue.search_button.click()
    qtbot.waitUntil(lambda: len(console.queue.rows) == 1 and console.queue.rows[0].full_name == "Nguyễn Văn Cường", timeout=5000)
    assert "040088007777" not in visible_text(console).replace(console.queue.search.text(), "")


def test_reprint_ticket(qtbot, console, staff_accounts, kiosk, scanner, printer):
    admin, _ = staff_accounts
    _checkin(qtbot, kiosk, scanner, demo.ELIGIBLE_CCCD)
    sign_in(qtbot, console, admin.id, "385172")
    qtbot.waitUntil(lambda: len(console.queue.rows) == 1, timeout=5000)
    console.queue.table.selectRow(0)
    console.queue.reprint.click()
    qtbot.waitUntil(lambda: len(printer.printed) == 1, timeout=5000)
    qtbot.waitUntil(lambda: "in lại phiếu số 1" in console.queue.message.text(), timeout=5000)


def test_chip_photo_only_on_the_console_only_in_memory(qtbot, console, staff_accounts, kiosk, bridge, tmp_path):
    """A chip read's face image reaches the console's face-check panel; nothing is written to disk."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice
    from PySide6.QtGui import QColor, QImage
    from kiosk.domain import ScanEvent
    img = QImage(60, 80, QImage.Format.Format_RGB32)
    img.fill(QColor("#c08060"))
    buf = QBuffer()
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    img.save(buf, "PNG")
    photo = bytes(buf.data())
    doc = _ChipDoc(photo)
    admin, _ = staff_accounts
    sign_in(qtbot, console, admin.id, "385172")
    qtbot.waitUntil(lambda: console.current == "queue", timeout=5000)
    kiosk.last_outcome = None
    bridge.on_scan(ScanEvent(b"", "chip", document=doc))
    qtbot.waitUntil(lambda: kiosk.last_outcome is not None and len(console.queue.rows) == 1, timeout=5000)
    console.queue.table.selectRow(0)
    qtbot.waitUntil(lambda: console.queue.photo.pixmap() is not None and not console.queue.photo.pixmap().isNull(),
                    timeout=3000)
    # The patient side has no image at all.
    from PySide6.QtWidgets import QLabel
    assert all(lab.pixmap().isNull() for lab in kiosk.findChildren(QLabel))
    console.lock()
    assert console.queue.photo.pixmap().isNull()


class _ChipDoc:
    kind = "cccd_chip"
    warnings: list = []

    def __init__(self, photo):
        self.photo = photo

    def identity(self):
        from kiosk.domain import PersonIdentity
        return PersonIdentity(document_kind="cccd_chip", full_name="Trần Thị Lan Anh", date_of_birth="1995-05-12",
                              sex="female", id_number="040195001234")


@pytest.mark.parametrize("kind, number, extra, flag", [
    ("id_number", "040192003456", {}, "manual_entry"),
    ("bhyt", "HS4400195001234", {}, "manual_entry"),
])
def test_manual_entry_checks_in_marked_as_manual(qtbot, console, staff_accounts, printer, seeded, kind, number,
                                                 extra, flag):
    from kiosk.services import desk
    admin, _ = staff_accounts
    sign_in(qtbot, console, admin.id, "385172")
    qtbot.waitUntil(lambda: console.current == "queue", timeout=5000)
    console.show_page("manual")
    m = console.manual
    m.kind.setCurrentIndex(m.kind.findData(kind))
    m.number.setText(number)
    m.name.setText("Hoàng Văn Minh")
    m.dob.setText("03/04/1992")
    m.submit.click()
    qtbot.waitUntil(lambda: "Số 1 cho Hoàng Văn Minh" in m.message.text(), timeout=5000)
    qtbot.waitUntil(lambda: len(printer.printed) == 1, timeout=5000)
    rows = desk.queue_for(seeded.db, "2026-11-26")
    assert rows[0].source == "manual" and flag in rows[0].flags and rows[0].services == ["kham_benh"]
    assert m.number.text() == ""


@pytest.mark.parametrize("kind, number, words", [
    ("id_number", "04019200345", "12 chữ số"),
    ("bhyt", "HS44001", "15 ký tự"),
])
def test_manual_entry_uses_the_parsers_rules(qtbot, console, staff_accounts, kind, number, words):
    admin, _ = staff_accounts
    sign_in(qtbot, console, admin.id, "385172")
    qtbot.waitUntil(lambda: console.current == "queue", timeout=5000)
    console.show_page("manual")
    m = console.manual
    m.kind.setCurrentIndex(m.kind.findData(kind))
    m.number.setText(number)
    m.name.setText("Hoàng Văn Minh")
    m.submit.click()
    qtbot.waitUntil(lambda: words in m.message.text(), timeout=5000)


def test_stay_start_list_and_receipt(qtbot, console, staff_accounts, kiosk, scanner):
    admin, _ = staff_accounts
    _checkin(qtbot, kiosk, scanner, demo.ELIGIBLE_CCCD)
    sign_in(qtbot, console, admin.id, "385172")
    qtbot.waitUntil(lambda: console.current == "queue", timeout=5000)
    console.show_page("stays")
    s = console.stays
    s.queue_number.setText("1")
    s.reason.setText("Theo dõi sau tiêm")
    s.start.click()
    qtbot.waitUntil(lambda: len(console.stays.stays) == 1, timeout=5000)
    assert "hạn thông báo là 23:00 26/11" in s.message.text()
    assert s.table.item(0, 2).text() == "********1234"
    assert s.table.item(0, 4).text() == "13h30"  # 09:30 → 23:00 Vietnam time
    assert s.alarm.text() == ""
    s.table.selectRow(0)
    s.receipt.setText("VNeID-2026-000123")
    s.record.click()
    qtbot.waitUntil(lambda: "Đã ghi số tiếp nhận" in s.message.text(), timeout=5000)
    qtbot.waitUntil(lambda: console.stays.stays == [], timeout=5000)


def test_stay_alarm_one_hour_before_the_deadline(qtbot, console, staff_accounts, kiosk, scanner, clock):
    admin, _ = staff_accounts
    _checkin(qtbot, kiosk, scanner, demo.ELIGIBLE_CCCD)
    sign_in(qtbot, console, admin.id, "385172")
    qtbot.waitUntil(lambda: console.current == "queue", timeout=5000)
    console.show_page("stays")
    console.stays.queue_number.setText("1")
    console.stays.reason.setText("Theo dõi")
    console.stays.start.click()
    qtbot.waitUntil(lambda: len(console.stays.stays) == 1, timeout=5000)
    clock.advance(hours=12, minutes=45)  # 22:15, deadline 23:00
    console.stays.refresh()
    qtbot.waitUntil(lambda: "trong vòng một giờ" in console.stays.alarm.text(), timeout=5000)
    console.show_page("queue")
    console.periodic()  # the 20 s refresh: the Stays tab shows the alarm from any page
    qtbot.waitUntil(lambda: console.tabs["stays"].text() == "Lưu trú (1!)", timeout=5000)


def test_end_of_day_counts_and_recorded_export(qtbot, console, staff_accounts, kiosk, scanner, seeded, tmp_path):
    admin, _ = staff_accounts
    for p in (demo.ELIGIBLE_CCCD, demo.EXPIRED_CCCD, demo.UNKNOWN_CCCD):
        _checkin(qtbot, kiosk, scanner, p)
    sign_in(qtbot, console, admin.id, "385172")
    qtbot.waitUntil(lambda: console.current == "queue", timeout=5000)
    console.show_page("day")
    qtbot.waitUntil(lambda: "Số lượt hôm nay: 3" in console.day.total.text(), timeout=5000)
    assert "Có BHYT: 1" in console.day.by_bhyt.text() and "Không hưởng BHYT: 1" in console.day.by_bhyt.text()
    assert not (tmp_path / "exports").exists()  # nothing leaves the device without an explicit action
    console.day.export.click()
    qtbot.waitUntil(lambda: "Đã xuất 3 lượt" in console.day.message.text(), timeout=5000)
    path = tmp_path / "exports" / "visits-2026-11-26.csv"
    rows = list(csv.reader(path.open(encoding="utf-8-sig")))
    assert rows[0][0] == "queue_number" and len(rows) == 4
    assert not any("040195001234" in c for r in rows for c in r)
    (n,) = seeded.db.execute("SELECT count(*) FROM desk_exports WHERE staff_id = ?", [admin.id]).fetchone()
    assert n == 1


def test_admin_adds_disables_and_resets(qtbot, console, staff_accounts, seeded):
    from kiosk.services import staff
    admin, rec = staff_accounts
    sign_in(qtbot, console, admin.id, "385172")
    qtbot.waitUntil(lambda: console.current == "queue", timeout=5000)
    console.show_page("staff")
    qtbot.waitUntil(lambda: len(console.staff.staff_rows) == 2, timeout=5000)
    a = console.staff
    a.name.setText("Đỗ Thị Hằng")
    a.id_number.setText("040199000333")
    a.pin.setText("7391")
    a.add.click()
    qtbot.waitUntil(lambda: len(console.staff.staff_rows) == 3, timeout=5000)
    row = next(i for i, s in enumerate(console.staff.staff_rows) if s.id == rec.id)
    a.table.selectRow(row)
    a.disable.click()
    qtbot.waitUntil(lambda: staff.get(seeded.db, rec.id).disabled, timeout=5000)
    a.table.selectRow(row)
    a.pin.setText("5190")
    a.reset.click()
    qtbot.waitUntil(lambda: "Đã cập nhật" in a.message.text(), timeout=5000)
    row_admin = next(i for i, s in enumerate(console.staff.staff_rows) if s.id == admin.id)
    a.table.selectRow(row_admin)
    a.disable.click()
    qtbot.waitUntil(lambda: "chính mình" in a.message.text(), timeout=5000)


def test_manual_entry_of_a_foreigner_by_passport(qtbot, console, staff_accounts, printer, seeded):
    from kiosk.services import desk
    admin, _ = staff_accounts
    sign_in(qtbot, console, admin.id, "385172")
    qtbot.waitUntil(lambda: console.current == "queue", timeout=5000)
    console.show_page("manual")
    m = console.manual
    m.kind.setCurrentIndex(m.kind.findData("passport"))
    m.number.setText("X1234567")
    m.name.setText("Marie Dupont")
    m.dob.setText("03/04/1985")
    m.nationality.setText("FRA")
    m.submit.click()
    qtbot.waitUntil(lambda: "Số 1 cho Marie Dupont" in m.message.text(), timeout=5000)
    row = desk.queue_for(seeded.db, "2026-11-26")[0]
    assert {"manual_entry", "foreign_passport"} <= set(row.flags) and row.document_kind == "manual_passport"
    assert row.masked_id == "****4567"


def test_recheck_button_runs_the_lookup_as_the_signed_in_officer(qtbot, bridge, staff_accounts, tmp_path):
    from tests.ui.conftest import SERVICES
    from ui.console.window import ConsoleWindow
    calls = []
    c = ConsoleWindow(bridge, lang="en", services=SERVICES, export_dir=tmp_path,
                      recheck=lambda svc, staff_id: calls.append(staff_id) or 2)
    qtbot.addWidget(c)
    c.show()
    qtbot.waitUntil(lambda: c.login.staff.count() == 2, timeout=5000)
    sign_in(qtbot, c, staff_accounts[1].id, "4826")
    qtbot.waitUntil(lambda: c.current == "queue", timeout=5000)
    c.show_page("status")
    c.status.recheck.click()
    qtbot.waitUntil(lambda: "Re-checked 2 visit(s)" in c.status.message.text(), timeout=5000)
    assert calls == [staff_accounts[1].id]


def test_call_next_is_called_aloud_and_changes_are_audited(qtbot, bridge, staff_accounts, kiosk, scanner,
                                                           seeded, tmp_path):
    from drivers.voice import Voice
    from tests.ui.conftest import SERVICES
    from ui.console.window import ConsoleWindow
    spoken = []
    voice = Voice("vi", "phòng khám", command="/usr/bin/espeak-ng", runner=lambda cmd, **kw: spoken.append(cmd[-1]))
    c = ConsoleWindow(bridge, lang="vi", services=SERVICES, export_dir=tmp_path, voice=voice)
    qtbot.addWidget(c)
    c.show()
    _checkin(qtbot, kiosk, scanner, demo.ELIGIBLE_CCCD)
    qtbot.waitUntil(lambda: c.login.staff.count() == 2, timeout=5000)
    admin = staff_accounts[0]
    sign_in(qtbot, c, admin.id, "385172")
    qtbot.waitUntil(lambda: len(c.queue.rows) == 1, timeout=5000)
    c.queue.call_next.click()
    qtbot.waitUntil(lambda: spoken == ["Mời số 1 vào phòng khám"], timeout=5000)
    c.queue.table.selectRow(0)
    c.queue.correct.click()
    c.queue.edit_value.setText("Trần Thị Lan Anh B")
    c.queue.edit_apply.click()
    qtbot.waitUntil(lambda: c.queue.rows[0].full_name.endswith(" B"), timeout=5000)
    c.queue.table.selectRow(0)
    c.show_page("stays")
    assert c.stays.queue_number.text() == "1"  # the stay starts from the selected visit
    c.show_page("day")
    c.day.export.click()
    qtbot.waitUntil(lambda: bool(c.day.message.text()), timeout=5000)
    entries = [tuple(r) for r in seeded.db.execute("SELECT actor, action, record_kind FROM audit_log")]
    actor = f"staff:{admin.id}"
    assert (actor, "corrected", "patient") in entries and (actor, "exported", "day") in entries


def test_identity_mismatch_is_marked_in_the_queue(qtbot, console, staff_accounts, kiosk, scanner):
    """A re-scan with another name keeps the first identity; the receptionist sees a ⚠ and why."""
    admin, _ = staff_accounts
    _checkin(qtbot, kiosk, scanner, demo.ELIGIBLE_CCCD)
    _checkin(qtbot, kiosk, scanner, demo.EXPIRED_CCCD)
    _checkin(qtbot, kiosk, scanner, demo.ELIGIBLE_CCCD.replace("Trần Thị Lan Anh", "Phạm Văn Khoa"))
    sign_in(qtbot, console, admin.id, "385172")
    qtbot.waitUntil(lambda: len(console.queue.rows) == 2, timeout=5000)
    names = {console.queue.table.item(i, 2).text(): console.queue.table.item(i, 2).toolTip() for i in range(2)}
    assert names["⚠ Trần Thị Lan Anh"].startswith("Quét lại với họ tên hoặc ngày sinh khác")
    (other,) = [n for n in names if "Trần Thị Lan Anh" not in n]
    assert not other.startswith("⚠") and names[other] == ""
