"""The national-lookup adapter against the local fake gateway: real HTTP on 127.0.0.1."""

from __future__ import annotations

import time
from datetime import date

import pytest

from kiosk.domain import PersonIdentity
from kiosk.eligibility import CANNOT_VERIFY, cannot_verify
from kiosk.simulated.fake_gateway import FakeGateway
from sync.national_lookup import (REASONS, GatewayAuthError, GatewayUnavailable, NationalLookup, check_or_pending,
                                  to_eligibility)

STAFF = ("Nguyễn Thị Tiếp Đón", "001090000001")
DAY = date(2026, 6, 1)
CARD = {"maKetQua": "000", "maThe": "HS4404012345678", "hoTen": "Trần Thị Lan Anh", "ngaySinh": "12/05/1995",
        "gioiTinh": "Nữ", "maDKBD": "40123", "gtTheTu": "01/01/2026", "gtTheDen": "31/12/2026", "maKV": "",
        "ngayDu5Nam": "01/01/2021", "maSoBHXH": "4012345678"}


@pytest.fixture
def gw():
    with FakeGateway() as g:
        g.add_card("HS4404012345678", "4012345678", "040095001234", answer=CARD)
        yield g


def lookup(gw, **kw) -> NationalLookup:
    return NationalLookup(gw.url, gw.username, kw.pop("password", gw.password), staff_name=STAFF[0],
                          staff_id_number=STAFF[1], **kw)


def ident(**kw):
    return PersonIdentity("test", "Trần Thị Lan Anh", "1995-05-12", **kw)


@pytest.mark.parametrize("number", ["HS4404012345678", "4012345678", "040095001234"])
def test_check_by_15_char_code_10_digit_number_and_12_digit_id(gw, number):
    ans = lookup(gw).check(number, "Trần Thị Lan Anh", "1995-05-12")
    assert ans.result_code == "000" and ans.body["maThe"] == "HS4404012345678"
    sent = gw.checks[-1]
    assert sent["maThe"] == number and sent["ngaySinh"] == "12/05/1995"
    assert (sent["hoTenCb"], sent["cccdCb"]) == STAFF  # the staff member doing the lookup is mandatory


def test_year_only_birth_date_is_sent_as_a_year(gw):
    lookup(gw).check("HS4404012345678", "X", "1995")
    assert gw.checks[-1]["ngaySinh"] == "1995"


def test_token_is_reused_then_refreshed_after_expiry_and_after_a_401(gw):
    now = [0.0]
    lk = lookup(gw, clock=lambda: now[0])
    lk.check("HS4404012345678", "a", "1995")
    lk.check("HS4404012345678", "a", "1995")
    assert gw.logins == 1
    now[0] = 3600 - 30  # within the last minute of expires_in: renew before using it
    lk.check("HS4404012345678", "a", "1995")
    assert gw.logins == 2
    gw.expire_tokens()  # the gateway forgets tokens early: 401, new token, retry once
    assert lk.check("HS4404012345678", "a", "1995").result_code == "000"
    assert gw.logins == 3


def test_wrong_password_is_an_auth_error(gw):
    with pytest.raises(GatewayAuthError):
        lookup(gw, password="wrong").check("HS4404012345678", "a", "1995")


def test_staff_member_is_required():
    with pytest.raises(Exception, match="staff"):
        NationalLookup("http://127.0.0.1:1", "u", "p", staff_name="", staff_id_number="")


def test_slow_answer_times_out_as_unavailable(gw):
    gw.delay = 1.5
    t0 = time.monotonic()
    with pytest.raises(GatewayUnavailable, match="within"):
        lookup(gw, timeout=1.0).check("HS4404012345678", "a", "1995")
    assert time.monotonic() - t0 < 2.5


def test_dropped_connection_and_5xx_are_unavailable(gw):
    lk = lookup(gw)
    lk.login()
    gw.drop_next = 1
    with pytest.raises(GatewayUnavailable):
        lk.check("HS4404012345678", "a", "1995")
    gw.fail_next = 1
    with pytest.raises(GatewayUnavailable, match="503"):
        lk.check("HS4404012345678", "a", "1995")
    assert lk.check("HS4404012345678", "a", "1995").result_code == "000"  # and recovers


def test_nothing_listening_is_unavailable():
    lk = NationalLookup("http://127.0.0.1:9", "u", "p", staff_name="a", staff_id_number="001090000001", timeout=1)
    with pytest.raises(GatewayUnavailable):
        lk.check("HS4404012345678", "a", "1995")


def test_unknown_staff_gives_054_and_becomes_cannot_verify(gw):
    lk = NationalLookup(gw.url, gw.username, gw.password, staff_name="Ai Đó", staff_id_number="001090009999")
    ans = lk.check("HS4404012345678", "a", "1995")
    assert ans.result_code == "054"
    e = to_eligibility(ans, ident(card_number="HS4404012345678"), DAY, "40123")
    assert e.result_code == CANNOT_VERIFY and "054" in e.reason


ALL_CODES = sorted(set(REASONS) - {"401"})  # 401: test_gateway_401_in_body_twice_is_an_auth_error


@pytest.mark.parametrize("code", ALL_CODES)
def test_every_result_code_maps_to_an_answer(gw, code):
    number = f"HS44040{int(code):08d}"
    answer = {**CARD, "maKetQua": code, "maThe": number}
    if code == "003":
        answer.update({"gtTheDen": "31/12/2025", "maTheMoi": "HS4404099999999", "gtTheTuMoi": "01/01/2026",
                       "gtTheDenMoi": "31/12/2026", "maDKBDMoi": "40123"})
    gw.add_card(number, answer=answer)
    ans = lookup(gw).check(number, "a", "1995")
    assert ans.result_code == code
    e = to_eligibility(ans, ident(card_number=number), DAY, "40123")
    assert e.reason and "\n" not in e.reason
    if code in ("054", "055", "100", "101", "205"):
        assert (e.result_code, e.source) == (CANNOT_VERIFY, "none")
    elif code in ("000", "001", "002", "003", "004"):
        assert (e.result_code, e.benefit_percent, e.source) == (code, 100, "gateway")
        assert e.as_of and e.as_of.endswith("Z")
    else:
        assert (e.result_code, e.benefit_percent, e.source) == (code, 0, "gateway")


def test_gateway_401_in_body_twice_is_an_auth_error(gw):
    gw.add_card("HS4404000000401", answer={**CARD, "maKetQua": "401"})
    with pytest.raises(GatewayAuthError):
        lookup(gw).check("HS4404000000401", "a", "1995")


def test_gateway_answer_uses_the_same_rules_for_other_province(gw):
    gw.add_card("HS4010000000001", answer={**CARD, "maThe": "HS4010000000001", "maDKBD": "01005"})
    e = to_eligibility(lookup(gw).check("HS4010000000001", "a", "1995"), ident(), DAY, "40123")
    assert (e.result_code, e.benefit_percent) == ("K03", 0)


def test_check_or_pending_keeps_the_offline_answer_when_the_gateway_is_down(gw):
    pending = cannot_verify("2026-05-31")
    gw.drop_next = 5
    lk = lookup(gw, timeout=1)
    assert check_or_pending(lk, ident(card_number="HS4404012345678"), DAY, "40123", pending) is pending
    gw.drop_next = 0
    e = check_or_pending(lk, ident(card_number="HS4404012345678"), DAY, "40123", pending)
    assert (e.result_code, e.source) == ("000", "gateway")


from hypothesis import given, settings, strategies as st  # noqa: E402

from kiosk.simulated.fake_gateway import ANSWER_FIELDS  # noqa: E402
from sync.national_lookup import GatewayAnswer  # noqa: E402


@settings(max_examples=300)
@given(st.sampled_from(sorted(REASONS) + ["999", "0"]),
       st.dictionaries(st.sampled_from(ANSWER_FIELDS), st.one_of(st.none(), st.integers(), st.text(max_size=20),
                                                                 st.sampled_from(["01/01/2026", "31/12/2026", "-",
                                                                                  "HS4404012345678", "K2"])),
                       max_size=12))
def test_any_gateway_answer_becomes_an_answer_never_a_crash(code, body):
    from datetime import datetime, timezone
    e = to_eligibility(GatewayAnswer(code, body, datetime.now(timezone.utc)), ident(), DAY, "40123")
    assert e.result_code and e.reason and e.source in ("gateway", "none")
    assert e.benefit_percent is None or 0 <= e.benefit_percent <= 100
