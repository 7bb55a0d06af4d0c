"""Table-driven tests of the rules engine: one table per rule, with each rule's boundary dates."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from kiosk.eligibility import roster
from kiosk.eligibility import CODES, Facility, Presented, RuleBook, decide
from kiosk.eligibility.cards import minimise

KEY = b"k" * 32
BOOK = RuleBook.load()
HERE = Facility("40123")  # a commune station in Nghệ An
D = date.fromisoformat


def card(**kw):
    rec = {"card_number": "HS4404012345678", "id_number": "040095001234", "full_name": "Trần Thị Lan Anh",
           "date_of_birth": "1995-05-12", "facility_code": "40123", "valid_from": "2026-01-01",
           "valid_to": "2026-12-31", "status": "active"}
    rec.update(kw)
    return minimise(KEY, rec)


def run(c, day="2026-06-01", presented=Presented(), facility=HERE, **kw):
    d = D(day)
    return decide(c, presented, d, facility, BOOK.for_date(d), **kw)


def who(name="Trần Thị Lan Anh", dob="1995-05-12"):
    births = None
    if dob and len(dob) == 10:
        births = frozenset({roster.birth_key(KEY, dob), roster.birth_key(KEY, dob[:4])})
    return Presented(roster.name_key(KEY, name) if name else None, births)


# --- validity dates: valid_from ≤ D ≤ valid_to, open end ---
@pytest.mark.parametrize("day,valid_from,valid_to,code", [
    ("2025-12-31", "2026-01-01", "2026-12-31", "K01"),   # the day before
    ("2026-01-01", "2026-01-01", "2026-12-31", "000"),   # first day
    ("2026-12-31", "2026-01-01", "2026-12-31", "000"),   # last day
    ("2027-01-01", "2026-01-01", "2026-12-31", "010"),   # the day after
    ("2040-01-01", "2026-01-01", None, "000"),           # no end date
    ("1990-01-01", None, "2026-12-31", "000"),           # no start date
])
def test_validity_dates(day, valid_from, valid_to, code):
    d = run(card(valid_from=valid_from, valid_to=valid_to), day)
    assert d.result_code == code
    assert d.benefit_percent == (100 if code == "000" else 0)
    assert d.reason


# --- inpatient grace: admitted on or before expiry, covered up to 15 days after (from 1 July 2025) ---
@pytest.mark.parametrize("day,admitted,code", [
    ("2026-12-31", None, "000"),
    ("2027-01-01", None, "010"),               # not an inpatient: no grace
    ("2027-01-01", "2026-12-31", "000"),       # admitted on the last valid day
    ("2027-01-15", "2026-12-20", "000"),       # 15th day after expiry: still covered
    ("2027-01-16", "2026-12-20", "010"),       # 16th day: not covered
    ("2027-01-05", "2027-01-01", "010"),       # admitted after expiry: no grace
])
def test_inpatient_grace(day, admitted, code):
    d = run(card(), day, admitted_on=D(admitted) if admitted else None)
    assert d.result_code == code
    if admitted and code == "000":
        assert d.details["inpatient_grace_until"] == "2027-01-15" and "nội trú" in d.reason


def test_grace_before_the_2025_decree_is_until_discharge():
    # Rule data before 2025-07-01 has no 15-day cap: the rule set, not code, decides.
    c = card(valid_from="2024-01-01", valid_to="2024-12-31")
    assert run(c, "2025-02-20", admitted_on=D("2024-12-30")).result_code == "000"
    c = card(valid_from="2025-01-01", valid_to="2025-12-31")
    assert run(c, "2026-02-20", admitted_on=D("2025-12-30")).result_code == "010"


# --- status: revoked, decreased (121-124), replaced (003/004) ---
@pytest.mark.parametrize("status,code", [
    ("revoked", "110"), ("decreased_moved_out", "121"), ("decreased_moved_within", "122"),
    ("decreased_reenrolled", "123"), ("decreased_stopped", "124"), ("active", "000"),
])
def test_status(status, code):
    d = run(card(status=status))
    assert (d.result_code, d.benefit_percent if code != "000" else 0) == (code, 0)


def test_revoked_wins_over_dates_and_identity():
    d = run(card(status="revoked", valid_from="2019-01-01", valid_to="2020-01-01"), presented=who("Someone Else"))
    assert d.result_code == "110"


@pytest.mark.parametrize("day,old_to,new_known,code,percent", [
    ("2026-06-01", "2026-12-31", True, "004", 100),    # old card still valid on the day
    ("2026-12-31", "2026-12-31", True, "004", 100),    # boundary: last valid day of the old card
    ("2027-01-01", "2026-12-31", True, "003", 100),    # old expired: the new card decides
    ("2027-01-01", "2026-12-31", False, "003", 100),   # new card not in the roster yet
])
def test_replaced_cards(day, old_to, new_known, code, percent):
    new = card(card_number="HS4404099999999", valid_from="2027-01-01", valid_to="2027-12-31")
    old = card(status="replaced", valid_to=old_to, replaced_by="HS4404099999999")
    assert (old.replaced_by_key, old.replaced_by_prefix) == (new.sin_key, new.card_prefix)
    d = run(old, day, replacement=new if new_known else None)
    assert (d.result_code, d.benefit_percent) == (code, percent)
    assert d.details["replaced"] is True
    if new_known:
        assert d.details["new_valid_to"] == "2027-12-31"


def test_replaced_card_whose_new_card_is_revoked_says_so():
    new = card(card_number="HS4404099999999", status="revoked")
    old = card(status="replaced", valid_to="2026-12-31", replaced_by="HS4404099999999")
    assert run(old, "2027-02-01", replacement=new).result_code == "110"


# --- name and birth-date mismatch (060 / 070) against what the card or chip said ---
@pytest.mark.parametrize("name,dob,code", [
    ("Trần Thị Lan Anh", "1995-05-12", "000"),
    ("TRẦN  THỊ LAN ANH", "1995-05-12", "000"),        # case and spacing
    ("TRAN THI LAN ANH", "1995-05-12", "000"),         # MRZ, no diacritics
    ("Trần Thị Lan", "1995-05-12", "060"),
    ("Trần Thị Lan Anh", "1995-05-13", "070"),
    ("Trần Thị Lan Anh", "1995", "000"),               # year only: not checked
    ("Nguyễn Văn A", "2000-01-01", "060"),             # name checked first
    (None, None, "000"),                               # nothing presented: nothing to compare
])
def test_name_and_birth_date(name, dob, code):
    assert run(card(), presented=who(name, dob)).result_code == code


def test_roster_with_birth_year_only_matches_a_full_date():
    assert run(card(date_of_birth="1995"), presented=who(dob="1995-05-12")).result_code == "000"
    assert run(card(date_of_birth="1995"), presented=who(dob="1996-05-12")).result_code == "070"


# --- registered facility, same-province rule (thông tuyến), living area ---
@pytest.mark.parametrize("facility_code,living_area,code,registration", [
    ("40123", None, "000", "registered_here"),
    ("40001", None, "000", "same_province"),       # another commune in Nghệ An: full benefit
    ("01005", None, "K03", "other_province"),      # Hà Nội registration at a Nghệ An commune station
    ("01005", "K2", "000", "living_area"),         # remote-area resident: as at the right level
    (None, None, "000", "same_province"),          # no facility: the card's province digits
])
def test_registered_facility(facility_code, living_area, code, registration):
    d = run(card(facility_code=facility_code, living_area=living_area))
    assert d.result_code == code
    assert d.details["registration"] == registration
    assert d.benefit_percent == (100 if code == "000" else 0)


def test_same_province_rule_applies_from_2016():
    before = run(card(facility_code="40001", valid_from="2015-01-01"), "2015-12-31")
    after = run(card(facility_code="40001", valid_from="2015-01-01"), "2016-01-01")
    assert (before.result_code, before.benefit_percent) == ("K03", 0)  # trái tuyến before thông tuyến
    assert (after.result_code, after.details["registration"]) == ("000", "same_province")


def test_upper_level_registration_is_not_thong_tuyen():
    import dataclasses
    rules = BOOK.for_date(D("2026-06-01"))
    rules = dataclasses.replace(rules, params={**rules.params, "upper_level_facilities": ["40001"]})
    d = decide(card(facility_code="40001"), Presented(), D("2026-06-01"), HERE, rules)
    assert (d.result_code, d.details["registration"]) == ("K03", "upper_level")


# --- benefit percentage by level, and the commune-station 100% rule ---
@pytest.mark.parametrize("card_number,commune,percent", [
    ("CC1404012345678", True, 100), ("CK2404012345678", True, 100), ("HT3404012345678", True, 100),
    ("HS4404012345678", True, 100), ("QN5404012345678", True, 100),
    ("CC1404012345678", False, 100), ("CK2404012345678", False, 100), ("HT3404012345678", False, 95),
    ("HS4404012345678", False, 80), ("QN5404012345678", False, 100),
])
def test_benefit_percent_by_level(card_number, commune, percent):
    d = run(card(card_number=card_number), facility=Facility("40123", commune_station=commune))
    assert d.benefit_percent == percent
    if not commune:
        assert d.details["low_cost_threshold_vnd"] == 351000  # 15% of 2,340,000


def test_level_from_group_table_when_missing():
    c = card(card_number="4012345678", beneficiary_group="HT", benefit_level=None)
    assert BOOK.for_date(D("2026-06-01")).level_of(c) == 3
    assert run(c, facility=Facility("40123", commune_station=False)).benefit_percent == 95


@pytest.mark.parametrize("day,salary", [("2024-06-30", 1800000), ("2024-07-01", 2340000),
                                        ("2026-06-30", 2340000), ("2026-07-01", 2530000)])
def test_base_salary_is_dated_data(day, salary):
    assert BOOK.for_date(D(day)).base_salary_vnd == salary


# --- five-year date ---
@pytest.mark.parametrize("day,reached", [("2026-03-31", False), ("2026-04-01", True)])
def test_five_year_date(day, reached):
    d = run(card(five_year_date="2026-04-01"), day)
    assert d.details["five_year_reached"] is reached
    assert ("5 năm" in d.reason) is reached


def test_every_code_the_engine_produces_is_documented():
    produced = set()
    for status in ("active", "revoked", "decreased_moved_out", "decreased_moved_within", "decreased_reenrolled",
                   "decreased_stopped"):
        produced.add(run(card(status=status)).result_code)
    produced |= {run(card(), "2025-01-01").result_code, run(card(), "2027-06-01").result_code,
                 run(card(), presented=who("X Y")).result_code, run(card(), presented=who(dob="1990-01-01")).result_code,
                 run(card(facility_code="01005")).result_code,
                 run(card(status="replaced", valid_to="2026-12-31"), "2026-06-01").result_code,
                 run(card(status="replaced", valid_to="2026-12-31"), "2027-06-01").result_code}
    from kiosk.eligibility import CANNOT_VERIFY
    produced.add(CANNOT_VERIFY)
    assert produced == set(CODES)
    doc = (__import__("pathlib").Path(__file__).resolve().parents[2] / "docs" / "eligibility.md").read_text()
    for code in produced:
        assert f"`{code}`" in doc, f"{code} is not documented in docs/eligibility.md"


def test_reasons_are_vietnamese_one_liners():
    for c in [card(), card(status="revoked"), card(valid_to="2026-01-31")]:
        d = run(c)
        assert "\n" not in d.reason and any(ch in d.reason for ch in "ảạẻđơưôâ")


def test_group_level_table_is_the_documents_one_and_a_decree_can_override_it_from_a_date():
    from kiosk.documents.tables import load_bhyt_groups
    from kiosk.eligibility.rules import RuleEntry
    table = load_bhyt_groups()
    rules = BOOK.for_date(D("2026-06-01"))
    assert rules.group_level["CT"] == table.level_of("CT") and rules.group_level["HT"] == 3
    import dataclasses
    book = dataclasses.replace(BOOK, rules=BOOK.rules + [RuleEntry.from_json(D("2027-01-01"), {
        "group_levels": {"CT": 2}, "level_percent": {"4": 85}})])
    assert book.for_date(D("2026-12-31")).group_level["CT"] == table.level_of("CT")
    assert book.for_date(D("2027-01-01")).group_level["CT"] == 2
    assert book.for_date(D("2027-01-01")).level_percent[4] == 85
