"""The Qt-free parts under the console: staff accounts, visit states, manual entry (hypothesis), printer, voice."""

from __future__ import annotations

import subprocess
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk import store
from kiosk.simulated import demo
from kiosk.services import desk
from kiosk.services import staff
from kiosk.documents.errors import ParseError
from kiosk.domain import ScanEvent
from kiosk.services.manual_entry import manual_document


@pytest.fixture
def conn(seeded):
    return seeded.db.conn


ADMIN_PIN, REC_PIN = "385172", "4826"


def test_pin_is_a_slow_salted_hash(conn, clock):
    with _tx(conn) as c:
        a = staff.add(c, "Nguyễn Thị Mai", "040190000111", ADMIN_PIN, clock.now(), is_admin=True)
    stored = conn.execute("SELECT pin_hash FROM staff WHERE id = ?", [a.id]).fetchone()[0]
    assert stored.startswith("scrypt$16384$8$1$") and ADMIN_PIN not in stored
    assert staff.verify_pin(ADMIN_PIN, stored) and not staff.verify_pin("385173", stored)
    assert staff.hash_pin(ADMIN_PIN) != staff.hash_pin(ADMIN_PIN)  # salted
    assert a.masked_id == "********0111"


def _tx(conn):
    import types
    return store.transaction(types.SimpleNamespace(conn=conn))


def test_lockout_after_max_attempts_and_unlock_after_the_period(conn, clock):
    with _tx(conn) as c:
        a = staff.add(c, "A", "040190000111", ADMIN_PIN, clock.now(), is_admin=True)
    for i in range(4):
        with _tx(conn) as c:
            r = staff.login(c, a.id, "9999", clock.now())
        assert r.reason == "refused" and r.cause == "wrong_pin"
    with _tx(conn) as c:
        r = staff.login(c, a.id, "9999", clock.now())
        assert r.reason == "refused" and r.cause == "locked"
    with _tx(conn) as c:
        r = staff.login(c, a.id, ADMIN_PIN, clock.now())  # right PIN, still locked: the same answer
        assert r.reason == "refused" and r.cause == "locked"
    clock.advance(minutes=5, seconds=1)
    with _tx(conn) as c:
        assert staff.login(c, a.id, ADMIN_PIN, clock.now()).ok


def test_only_admins_manage_accounts(conn, clock):
    with _tx(conn) as c:
        admin = staff.add(c, "A", "040190000111", ADMIN_PIN, clock.now(), is_admin=True)
        rec = staff.add(c, "B", "040190000222", REC_PIN, clock.now(), by=admin.id)
        with pytest.raises(staff.StaffError) as e:
            staff.add(c, "C", "040190000333", "5190", clock.now(), by=rec.id)
        assert e.value.reason == "not_admin"
        with pytest.raises(staff.StaffError):
            staff.add(c, "D", "040190000222", "5190", clock.now(), by=admin.id)  # ID already has an account
        staff.set_disabled(c, rec.id, True, clock.now(), by=admin.id)
    with _tx(conn) as c:
        r = staff.login(c, rec.id, REC_PIN, clock.now())
        assert r.reason == "refused" and r.cause == "disabled"
    events = [r[0] for r in conn.execute("SELECT action FROM staff_events ORDER BY id")]
    assert events == ["added_admin", "added", "disabled"]


def test_visit_state_machine(seeded, clock):
    v = seeded.handle(ScanEvent(demo.ELIGIBLE_CCCD.encode())).visit_id
    conn = seeded.db.conn
    with _tx(conn) as c:
        admin = staff.add(c, "A", "040190000111", ADMIN_PIN, clock.now(), is_admin=True)
        assert desk.call_next(c, "2026-11-26", admin.id, clock.now()).status == "being_seen"
        assert desk.call_next(c, "2026-11-26", admin.id, clock.now()) is None
        desk.change_state(c, v, "done", admin.id, clock.now())
        with pytest.raises(desk.DeskError):
            desk.change_state(c, v, "cancelled", admin.id, clock.now())
        desk.change_state(c, v, "being_seen", admin.id, clock.now())  # a mistaken "done" is undone
    assert [h.action for h in desk.changes(conn, v)] == ["status", "status", "status"]


def test_end_of_day_counts(seeded, clock):
    for p in (demo.ELIGIBLE_CCCD, demo.EXPIRED_CCCD, demo.UNKNOWN_CCCD, demo.BHYT_QR):
        seeded.handle(ScanEvent(p.encode()))
    conn = seeded.db.conn
    with _tx(conn) as c:
        desk.add_service(c, 1, "kham_benh", None, clock.now())
        desk.add_service(c, 1, "tiem_chung", None, clock.now())
        desk.add_service(c, 2, "kham_benh", None, clock.now())
    counts = desk.end_of_day(conn, "2026-11-26")
    assert counts.visit_date == "2026-11-26" and counts.visits == 4
    assert counts.by_service == {"kham_benh": 2, "tiem_chung": 1, "(none)": 2}
    assert counts.by_bhyt == {"covered": 1, "not_covered": 1, "unverified": 2}
    assert counts.by_state == {"waiting": 4, "being_seen": 0, "done": 0, "left": 0, "cancelled": 0}


ID12 = st.from_regex(r"[0-9]{12}", fullmatch=True)
NAMES = st.text(alphabet=st.sampled_from("aăâbcdđeêghiklmnoôơpqrstuưvxyÀẢÃáạằẳẵắặầẩẫấậ "), min_size=1,
                max_size=40).filter(lambda s: s.strip())


@settings(max_examples=200, deadline=None)
@given(kind=st.sampled_from(["id_number", "bhyt", "passport"]), number=st.text(max_size=20), name=st.text(max_size=60),
       dob=st.text(max_size=12), nat=st.text(max_size=5))
def test_manual_entry_never_crashes(kind, number, name, dob, nat):
    try:
        doc = manual_document(kind, number, name, dob, "", nat)
    except ParseError as e:
        assert e.field
        return
    assert "manual_entry" in doc.warnings
    doc.identity().key  # a valid document always has an identity key


@settings(max_examples=100, deadline=None)
@given(number=ID12, name=NAMES)
def test_manual_id_numbers_accepted_exactly_when_12_digits(number, name):
    doc = manual_document("id_number", number, name.strip())
    assert doc.identity().id_number == number
    with pytest.raises(ParseError):
        manual_document("id_number", number[:-1], name.strip())


def test_manual_bhyt_and_passport():
    doc = manual_document("bhyt", "hs 4400195001234", "Trần Thị Lan Anh", "12/05/1995", "female")
    ident = doc.identity()
    assert ident.card_number == "HS4400195001234" and ident.social_insurance_number == "0195001234"
    p = manual_document("passport", "x1234567", "Marie Dupont", "", "", "fra")
    assert p.identity().key == "passport:FRA:X1234567" and "foreign_passport" in p.warnings
    with pytest.raises(ParseError) as e:
        manual_document("passport", "X1234567", "Marie Dupont", "", "", "France")
    assert e.value.field == "nationality"


def test_escpos_printer_sends_a_raster_image_and_cuts(monkeypatch):
    """The real python-escpos path, into its Dummy printer (the bytes a USB printer would get)."""
    pytest.importorskip("escpos")
    from escpos.printer import Dummy

    from drivers.printer import EscposPrinter, Ticket
    dummy = Dummy()
    p = EscposPrinter("usb")
    monkeypatch.setattr(p, "_open", lambda: dummy)
    p.print_ticket(Ticket("Trạm Y tế xã Mẫu", 12, "Khám bệnh", "26/11/2026 08:05"))
    out = dummy.output
    assert b"\x1dv0" in out  # GS v 0: raster bit image
    assert out.rstrip().endswith(b"\x1dVA\x00") or b"\x1dV" in out[-10:]  # cut
    assert "Khám".encode() not in out  # no text code pages: Vietnamese goes as pixels


def test_escpos_printer_unplugged_is_offline():
    from drivers.printer import EscposPrinter, PrinterError, Ticket
    p = EscposPrinter("serial", port="/dev/nonexistent-printer")
    with pytest.raises(PrinterError) as e:
        p.print_ticket(Ticket("T", 1, "S", "x"))
    assert e.value.reason == "offline"
    assert p.status() == (False, "offline")


def test_voice_never_blocks_and_uses_the_vietnamese_voice(monkeypatch):
    import threading
    import time

    from drivers.voice import Voice
    gate = threading.Event()
    calls = []

    def slow_runner(cmd, **kw):
        gate.wait(5)
        calls.append(cmd)

    v = Voice("vi", "phòng khám", command="/usr/bin/espeak-ng", runner=slow_runner)
    t0 = time.perf_counter()
    assert v.call(12) and v.call(13)
    assert time.perf_counter() - t0 < 0.05  # returns at once while the speaker is busy
    gate.set()
    v.wait()
    assert calls[0][-1] == "Mời số 12 vào phòng khám" and calls[0][1:3] == ["-v", "vi"]
    import drivers.voice
    monkeypatch.setattr(drivers.voice.shutil, "which", lambda name: None)
    silent = Voice("vi", runner=slow_runner)
    assert not silent.available and silent.call(1) is False  # no espeak-ng: silence, no error


def test_espeak_ng_vietnamese_voice_renders(tmp_path):
    import shutil
    if not shutil.which("espeak-ng"):
        pytest.skip("espeak-ng not installed (deploy/apt-packages.txt)")
    wav = tmp_path / "call.wav"
    subprocess.run(["espeak-ng", "-v", "vi", "-w", str(wav), "Mời số 12 vào phòng khám"], check=True, timeout=20)
    assert wav.stat().st_size > 10000
