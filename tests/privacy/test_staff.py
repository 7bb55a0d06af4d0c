"""Staff accounts (issue 13, item 4): PIN policy, ASCII digits only, one lockout setting that escalates,
refusals that give nothing away, and account changes in the hash-chained audit log."""

from __future__ import annotations

import json
import subprocess
import types
import unicodedata
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings, strategies as st

from kiosk import store
from kiosk.privacy import audit
from kiosk.services import staff
from kiosk.clock import VN_TZ, FixedClock
from kiosk.documents.errors import ParseError
from kiosk.services.manual_entry import manual_document
from tests.conftest import kiosk_cmd

ADMIN_PIN, CLERK_PIN = "385172", "4826"
T0 = datetime(2026, 11, 26, 9, 0, tzinfo=VN_TZ)
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
# Decimal digits of other scripts (٣, ३, ๓ …): each is a "digit" to str.isdigit() and int(), and must be
# refused. Compatibility forms (full-width ３, mathematical 𝟑) are the ASCII digit after NFKC, and accepted.
FOREIGN_DIGIT = st.characters(categories=["Nd"]).filter(lambda c: unicodedata.normalize("NFKC", c) not in "0123456789")


@pytest.fixture
def db(app):
    """The kiosk's store as production opens it (kiosk.app.build: the data key and the test's clock)."""
    db = app.database()
    yield db
    db.close()


def _tx(db):
    return store.transaction(db)


def _reason(fn, *a, **kw) -> str:
    with pytest.raises(staff.StaffError) as e:
        fn(*a, **kw)
    return e.value.reason


# --- PIN policy ------------------------------------------------------------------------------------

@pytest.mark.parametrize("pin", ["0000", "1111", "777777", "1212", "123123", "1234", "4321", "123456", "654321",
                                 "7890", "0987", "23456789"])
def test_trivial_pins_are_refused(pin):
    assert _reason(staff.check_pin_policy, pin) == "pin_trivial"


def test_the_common_pin_list_has_100_pins_of_4_to_6_digits_and_each_is_refused():
    pins = staff.common_pins()
    assert len(pins) == 100 and all(p.isascii() and p.isdigit() and 4 <= len(p) <= 6 for p in pins)
    for p in pins:
        with pytest.raises(staff.StaffError):
            staff.check_pin_policy(p)
    assert _reason(staff.check_pin_policy, "2580") == "pin_common"  # the keypad's middle column
    assert _reason(staff.check_pin_policy, "3979") == "pin_common"


def test_admins_need_six_digits():
    assert _reason(staff.check_pin_policy, "4826", is_admin=True) == "pin_admin_short"
    assert staff.check_pin_policy("4826") == "4826"
    assert staff.check_pin_policy(ADMIN_PIN, is_admin=True) == ADMIN_PIN


@pytest.mark.parametrize("pin", ["140383", "14031983", "19830314", "031483", "830314", "1403", "0314", "1983",
                                 "03141983", "1431983"])
def test_the_birth_date_in_usual_forms_is_refused(pin):
    assert _reason(staff.check_pin_policy, pin, birth_date="1983-03-14") == "pin_birth_date"
    staff.check_pin_policy(pin)  # the same digits are fine for someone born another day


def test_the_birth_year_from_the_id_number_is_refused_without_a_birth_date():
    # 0 4 0 | 1 (female, 1900s) | 88 → born 1988
    assert _reason(staff.check_pin_policy, "1988", id_number="040188000222") in ("pin_birth_date", "pin_common")
    assert _reason(staff.check_pin_policy, "1977", id_number="040177000222") == "pin_birth_date"
    assert staff.check_pin_policy("1977", id_number="040188000222") == "1977"


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=date(1930, 1, 1), max_value=date(2010, 12, 31)))
def test_no_form_of_a_birth_date_passes(birth):
    for form in staff.birth_date_forms(birth):
        if 4 <= len(form) <= 8:
            with pytest.raises(staff.StaffError):
                staff.check_pin_policy(form, birth_date=birth.isoformat())
    ddmmyy = birth.strftime("%d%m%y")
    assert ddmmyy in staff.birth_date_forms(birth) and birth.strftime("%Y%m%d") in staff.birth_date_forms(birth)


@settings(max_examples=200, deadline=None)
@given(st.integers(4, 8), st.integers(0, 9), st.sampled_from([1, -1]))
def test_every_one_digit_pin_and_every_run_is_refused(n, start, step):
    with pytest.raises(staff.StaffError):
        staff.check_pin_policy(str(start) * n)
    with pytest.raises(staff.StaffError):
        staff.check_pin_policy("".join(str((start + step * i) % 10) for i in range(n)))


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=0, max_size=12))
def test_whatever_is_accepted_is_4_to_8_ascii_digits(text):
    try:
        pin = staff.check_pin_policy(text)
    except staff.StaffError:
        return
    assert pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 8 and pin not in staff.common_pins()


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"[0-9]{4,8}", fullmatch=True))
def test_full_width_digits_are_the_same_pin_and_other_scripts_are_refused(pin):
    try:
        ok = staff.check_pin_policy(pin)
    except staff.StaffError as e:
        assert _reason(staff.check_pin_policy, pin.translate(FULLWIDTH)) == e.reason
        return
    assert staff.check_pin_policy(pin.translate(FULLWIDTH)) == ok
    assert _reason(staff.check_pin_policy, pin.translate(ARABIC_INDIC)) == "pin_form"


@settings(max_examples=100, deadline=None)
@given(st.from_regex(r"[0-9]{12}", fullmatch=True), st.data())
def test_id_numbers_take_ascii_or_full_width_digits_only(number, data):
    assert staff.normalise_id_number(number.translate(FULLWIDTH)) == number
    i = data.draw(st.integers(0, 11))
    bad = number[:i] + data.draw(FOREIGN_DIGIT) + number[i + 1:]
    assert _reason(staff.normalise_id_number, bad) == "id_form"


@settings(max_examples=100, deadline=None)
@given(st.from_regex(r"0[0-9]{11}", fullmatch=True), st.data())
def test_manual_entry_refuses_other_scripts_digits_and_takes_full_width(number, data):
    doc = manual_document("id_number", number.translate(FULLWIDTH), "Lê Văn Tám")
    assert doc.number == number
    i = data.draw(st.integers(0, 11))
    bad = number[:i] + data.draw(FOREIGN_DIGIT) + number[i + 1:]
    with pytest.raises(ParseError):
        manual_document("id_number", bad, "Lê Văn Tám")
    with pytest.raises(ParseError):
        manual_document("bhyt", "HS4" + bad[:12], "Lê Văn Tám")
    with pytest.raises(ParseError):
        manual_document("bhyt", bad[:10].translate(ARABIC_INDIC), "Lê Văn Tám")


def test_an_arabic_indic_id_number_does_not_make_a_second_patient(service):
    from kiosk.domain import ScanEvent
    number = "040195001234"
    first = manual_document("id_number", number, "Lê Văn Tám", "12/05/1995", "nam")
    assert service.handle(ScanEvent(b"", source="manual", document=first)).ok
    with pytest.raises(ParseError):
        manual_document("id_number", number.translate(ARABIC_INDIC), "Lê Văn Tám", "12/05/1995", "nam")
    same = manual_document("id_number", number.translate(FULLWIDTH), "Lê Văn Tám", "12/05/1995", "nam")
    assert same.identity().key == first.identity().key


def test_staff_add_and_reset_apply_the_policy(db):
    with _tx(db) as c:
        assert _reason(staff.add, c, "A", "040190000111", "1234", T0, is_admin=True) == "pin_admin_short"
        assert _reason(staff.add, c, "A", "040190000111", "140390", T0, is_admin=True,
                       birth_date="14/03/1990") == "pin_birth_date"
        assert _reason(staff.add, c, "A", "٠٤٠١٩٠٠٠٠١١١", ADMIN_PIN, T0, is_admin=True) == "id_form"
        admin = staff.add(c, "A", "040190000111".translate(FULLWIDTH), ADMIN_PIN.translate(FULLWIDTH), T0,
                          is_admin=True, birth_date="14/03/1990")
        clerk = staff.add(c, "B", "040188000222", CLERK_PIN, T0, by=admin.id, birth_date="02/07/1988")
        # The birth date is kept (sealed when there is a data key) so that a reset is checked too.
        assert _reason(staff.reset_pin, c, clerk.id, "0207", T0, by=admin.id) == "pin_birth_date"
        assert _reason(staff.reset_pin, c, admin.id, "5190", T0, by=admin.id) == "pin_admin_short"
        staff.reset_pin(c, clerk.id, "5190", T0, by=admin.id)
    with _tx(db) as c:
        assert staff.login(c, admin.id, ADMIN_PIN, T0).ok
        assert staff.login(c, clerk.id, "５１９０", T0).ok


# --- lockouts: one setting, escalating ----------------------------------------------------------------

def _account(db, pin=CLERK_PIN):
    with _tx(db) as c:
        return staff.add(c, "B", "040188000222", pin, T0)


def _try(db, staff_id, pin, now, **kw):
    with _tx(db) as c:
        return staff.login(c, staff_id, pin, now, **kw)


def test_lockouts_double_and_the_counter_survives_them(db):
    acct = _account(db)
    clock = FixedClock(T0)
    spans = []
    for _ in range(4):
        for _ in range(5):
            r = _try(db, acct.id, "0000", clock.now())
        assert r.cause == "locked"
        until = datetime.fromisoformat(staff.get(db.conn, acct.id).locked_until.replace("Z", "+00:00"))
        spans.append(round((until - clock.now()).total_seconds() / 60))
        assert _try(db, acct.id, CLERK_PIN, clock.now()).cause == "locked"
        clock.advance(seconds=(until - clock.now()).total_seconds() + 1)
    assert spans == [5, 10, 20, 40]
    assert _try(db, acct.id, CLERK_PIN, clock.now()).ok  # a correct PIN clears the counter...
    for _ in range(5):
        r = _try(db, acct.id, "0000", clock.now())
    assert r.cause == "locked"
    until = datetime.fromisoformat(staff.get(db.conn, acct.id).locked_until.replace("Z", "+00:00"))
    assert round((until - clock.now()).total_seconds() / 60) == 5  # ...and the escalation


def test_a_day_of_guessing_gets_few_tries(db):
    acct = _account(db)
    clock = FixedClock(T0)
    tries = 0
    while clock.now() < T0 + timedelta(days=1):
        r = _try(db, acct.id, "0000", clock.now())
        tries += r.cause == "wrong_pin"
        if r.cause == "locked":  # wait the lockout out, as a patient attacker would
            until = datetime.fromisoformat(staff.get(db.conn, acct.id).locked_until.replace("Z", "+00:00"))
            clock.advance(seconds=(until - clock.now()).total_seconds() + 1)
    assert tries < 60  # before: 4 wrong PINs counted every 5 minutes, over 1,000 a day


def test_the_policy_comes_from_the_configuration():
    cfg = {"staff.max_pin_attempts": 3, "staff.lockout_minutes": 7}
    p = staff.LoginPolicy.from_config(cfg)
    assert p.max_attempts == 3 and p.lockout == timedelta(minutes=7)
    assert [p.lockout_for(3 * k) for k in (1, 2, 3)] == [timedelta(minutes=m) for m in (7, 14, 28)]
    assert p.lockout_for(3 * 30) == timedelta(days=1)


def _cli_env(tmp_path, data_dir, attempts=3, minutes=7):
    import os
    toml = tmp_path / "kiosk.toml"
    toml.write_text(f'[storage]\ndata_dir = "{data_dir}"\n[staff]\nmax_pin_attempts = {attempts}\n'
                    f'lockout_minutes = {minutes}\n')
    env = dict(os.environ, KIOSK_CONFIG=str(toml))
    env.pop("KIOSK_DATA_DIR", None)
    return env


@pytest.mark.parametrize("command", [("staff", "disable", "2"), ("person", "export", "--id-number", "040195001234")])
def test_the_command_line_uses_the_configured_lockout(app, db, tmp_path, data_dir, command):
    with _tx(db) as c:
        admin = staff.add(c, "A", "040190000111", ADMIN_PIN, T0, is_admin=True)
        staff.add(c, "B", "040188000222", CLERK_PIN, T0, by=admin.id)
    db.conn.close()
    env = _cli_env(tmp_path, data_dir, attempts=3, minutes=7)
    for _ in range(3):
        r = subprocess.run(kiosk_cmd(*command, "--staff", str(admin.id)), env=dict(env, KIOSK_STAFF_PIN="000000"),
                           capture_output=True, text=True)
        assert r.returncode == 2 and "PIN not accepted" in r.stderr, r.stderr
    after = datetime.now(VN_TZ)
    again = app.database()
    locked = staff.get(again, admin.id).locked_until
    assert locked, "3 wrong PINs lock the account when the configuration says 3 (the built-in default is 5)"
    span = datetime.fromisoformat(locked.replace("Z", "+00:00")) - after
    assert timedelta(minutes=6) < span <= timedelta(minutes=7)  # the configured 7 minutes, not the built-in 5
    right = subprocess.run(kiosk_cmd(*command, "--staff", str(admin.id)), env=dict(env, KIOSK_STAFF_PIN=ADMIN_PIN),
                           capture_output=True, text=True)
    assert right.returncode == 2 and "PIN not accepted" in right.stderr  # locked, told in the same words


# --- refusals give nothing away ------------------------------------------------------------------------

def test_every_refusal_costs_one_scrypt_at_the_same_parameters_and_says_the_same(db, monkeypatch):
    with _tx(db) as c:
        admin = staff.add(c, "A", "040190000111", ADMIN_PIN, T0, is_admin=True)
        clerk = staff.add(c, "B", "040188000222", CLERK_PIN, T0, by=admin.id)
        other = staff.add(c, "C", "040177000333", "5190", T0, by=admin.id)
        staff.set_disabled(c, other.id, True, T0, by=admin.id)
    for _ in range(5):
        _try(db, clerk.id, "0000", T0)
    staff._dummy_hash()  # made once, before the measured calls
    calls = []
    real = staff.hashlib.scrypt
    monkeypatch.setattr(staff.hashlib, "scrypt", lambda *a, **kw: calls.append((kw["n"], kw["r"], kw["p"]))
                        or real(*a, **kw))
    results = {"wrong_pin": _try(db, admin.id, "000000", T0), "unknown_staff": _try(db, 9999, ADMIN_PIN, T0),
               "disabled": _try(db, other.id, "5190", T0), "locked": _try(db, clerk.id, CLERK_PIN, T0),
               "malformed": _try(db, admin.id, "x", T0)}
    assert calls == [(staff.SCRYPT_N, staff.SCRYPT_R, staff.SCRYPT_P)] * len(results)
    assert {r.reason for r in results.values()} == {"refused"}
    assert [r.cause for r in results.values()][:4] == ["wrong_pin", "unknown_staff", "disabled", "locked"]
    assert {tuple(sorted(vars(r).keys() - {"cause"})) for r in results.values()} == {("account", "reason")}


# --- the audit chain --------------------------------------------------------------------------------

def test_account_changes_and_lockouts_are_in_the_audit_chain(db):
    with _tx(db) as c:
        admin = staff.add(c, "A", "040190000111", ADMIN_PIN, T0, is_admin=True)
        clerk = staff.add(c, "B", "040188000222", CLERK_PIN, T0, by=admin.id)
        staff.set_disabled(c, clerk.id, True, T0, by=admin.id)
        staff.set_disabled(c, clerk.id, False, T0, by=admin.id)
        staff.reset_pin(c, clerk.id, "5190", T0, by=admin.id)
    for _ in range(5):
        _try(db, clerk.id, "0000", T0)
    got = [(e.actor, e.action, e.record_kind, e.record_id) for e in audit.entries(db.conn)]
    assert got[0][1:] == ("account_added", "staff", str(admin.id)) and got[0][0].startswith("os:")
    assert got[1:] == [(f"staff:{admin.id}", "account_added", "staff", str(clerk.id)),
                       (f"staff:{admin.id}", "account_disabled", "staff", str(clerk.id)),
                       (f"staff:{admin.id}", "account_enabled", "staff", str(clerk.id)),
                       (f"staff:{admin.id}", "account_pin_reset", "staff", str(clerk.id)),
                       ("system:staff_login", "account_locked", "staff", str(clerk.id))]
    assert json.loads(audit.entries(db.conn)[-1].details)["minutes"] == 5
    assert audit.verify(db.conn).ok
    queued = db.execute("SELECT count(*) FROM outbox WHERE kind = 'audit'").fetchone()[0]
    assert queued == 6  # copied to the hub like every other entry
    text = json.dumps([e.to_json() for e in audit.entries(db.conn)], ensure_ascii=False)
    assert "040188000222" not in text and "B" not in {e.actor for e in audit.entries(db.conn)}
