"""The typed edges of the core: data files checked before they become typed values, and document shapes that
two layers must agree on (the chip driver's DG13 keys and ChipRead's person)."""

from __future__ import annotations

import json
from dataclasses import fields as dataclass_fields
from datetime import date
from pathlib import Path

import pytest

from drivers.chip import lds
from kiosk.documents import KINDS, BhytQr, CccdQr, MrzTd1, parse, render
from kiosk.documents.chip import IDENTITY_FIELDS, ChipRead
from kiosk.documents.tables import DATA_DIR, load_bhyt_groups
from kiosk.domain import ScanEvent, Ticket
from kiosk.eligibility.cards import FIELDS, BadCard, RosterCard, minimise, minimise_row
from kiosk.eligibility.rules import RuleBook, RuleEntry

KEY = b"k" * 32


def groups_file(tmp_path: Path, change) -> Path:
    raw = json.loads((DATA_DIR / "bhyt_groups.json").read_text(encoding="utf-8"))
    change(raw)
    path = tmp_path / "groups.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    return path


def test_a_corrected_group_table_loads_and_a_wrong_shape_names_the_place(tmp_path):
    def ct_level_2(raw):
        raw["groups"]["CT"]["levels"] = [2, 4]
    assert load_bhyt_groups(groups_file(tmp_path, ct_level_2)).level_of("CT") == 2

    def percent_as_text(raw):
        raw["benefit_levels"]["4"]["benefit_percent"] = "80"  # digits in a string are still a number
    assert load_bhyt_groups(groups_file(tmp_path, percent_as_text)).benefit_percent(4) == 80

    def percent_missing(raw):
        del raw["benefit_levels"]["4"]["benefit_percent"]
    with pytest.raises(ValueError, match=r"benefit_levels\.4\.benefit_percent: expected a whole number"):
        load_bhyt_groups(groups_file(tmp_path, percent_missing))

    def levels_not_a_list(raw):
        raw["groups"]["HS"]["levels"] = 4
    with pytest.raises(ValueError, match=r"groups\.HS\.levels: expected a JSON list"):
        load_bhyt_groups(groups_file(tmp_path, levels_not_a_list))

    def boolean_level(raw):
        raw["groups"]["HS"]["levels"] = [True]
    with pytest.raises(ValueError, match=r"groups\.HS\.levels: expected a whole number"):
        load_bhyt_groups(groups_file(tmp_path, boolean_level))


def test_rule_entries_are_checked_and_typed():
    e = RuleEntry.from_json(date(2027, 1, 1), {"from": "2027-01-01", "source": "decree", "inpatient_grace_days": 30,
                                               "same_province_primary": False, "level_percent": {"4": 85},
                                               "group_levels": {"CT": 2}})
    assert e.params == {"inpatient_grace_days": 30, "same_province_primary": False}
    assert (e.source, dict(e.level_percent), dict(e.group_levels)) == ("decree", {4: 85}, {"CT": 2})
    assert RuleEntry.from_json(date(2027, 1, 1), {"inpatient_grace_days": None}).params == {
        "inpatient_grace_days": None}  # null: covered until discharge
    with pytest.raises(ValueError, match="inpatient_grace_dayz: not a rule parameter"):
        RuleEntry.from_json(date(2027, 1, 1), {"inpatient_grace_dayz": 30})  # a typo is not silently ignored
    with pytest.raises(ValueError, match="same_province_primary: expected true or false"):
        RuleEntry.from_json(date(2027, 1, 1), {"same_province_primary": "yes"})
    with pytest.raises(ValueError, match="low_cost_share_of_base_salary: expected a number"):
        RuleEntry.from_json(date(2027, 1, 1), {"low_cost_share_of_base_salary": True})


def test_the_packaged_rules_merge_by_date():
    book = RuleBook.load()
    assert [e.start for e in book.rules] == sorted(e.start for e in book.rules)
    before, after = book.for_date(date(2015, 12, 31)), book.for_date(date(2026, 1, 1))
    assert before.params["same_province_primary"] is False and after.params["same_province_primary"] is True
    assert before.params["inpatient_grace_days"] is None and after.params["inpatient_grace_days"] == 15
    assert after.params["commune_station_full_levels"] == [3, 4]  # kept from the first entry
    assert book.for_date(date(2000, 1, 1)).base_salary_vnd == book.salaries[0].vnd  # earliest known value


def test_chip_person_keys_are_the_drivers_dg13_keys():
    assert set(IDENTITY_FIELDS) == set(lds.DG13_OUTPUT)


def chip(**kw) -> ChipRead:
    base: dict = dict(access_method="bac", mrz={}, dg13={}, passive_authentication="verified",
                      chip_authentication="not_supported", apdus=1, bytes=2)
    return ChipRead(**(base | kw))


def test_chip_fields_take_dg13_first_and_the_mrz_for_what_it_lacks():
    mrz = {"id_number": "040195001234", "date_of_birth": "950512", "sex": "female", "name": "TRAN, THI LAN ANH"}
    r = chip(mrz=mrz, dg13={"full_name": "Trần Thị Lan Anh", "sex": "", "place_of_residence": "Vinh"},
             photo=b"\xff\xd8jpeg", photo_format="jpeg")
    f = r.fields
    assert tuple(f) == IDENTITY_FIELDS
    assert (f["id_number"], f["full_name"], f["date_of_birth"], f["sex"]) == (
        "040195001234", "Trần Thị Lan Anh", "1995-05-12", "female")
    assert f["place_of_residence"] == "Vinh" and f["old_id_number"] is None
    out = r.to_json()
    assert out["photo"] == {"format": "jpeg", "size": 6} and out["bytes"] == 2  # the photo itself never
    assert chip().fields["full_name"] is None and chip().identity().full_name == ""


def test_every_document_kind_is_an_identity_document_for_a_scan_event():
    assert set(KINDS) == {CccdQr, BhytQr, MrzTd1, ChipRead}
    read = chip(dg13={"id_number": "040195001234", "full_name": "A"})
    event = ScanEvent(b"", "chip", document=read)
    assert event.document is read and event.document.identity().key == "id:040195001234"
    with pytest.raises(ValueError):
        ScanEvent(b"", "fax")  # type: ignore[arg-type]  # the runtime check behind the Literal


def test_render_takes_only_the_parsed_kinds():
    qr = "040195001234||Trần Thị Lan Anh|12051995|Nữ|Vinh|01012021"
    assert render(parse(qr)) == qr
    with pytest.raises(TypeError, match="expected a CccdQr, BhytQr or MrzTd1"):
        render(chip())  # type: ignore[arg-type]  # a chip read has no payload to render


def test_roster_rows_are_typed_tuples_and_field_types_are_exact():
    rec = {"card_number": "HS4404012345678", "benefit_level": "3", "valid_from": "2026-01-01"}
    row = minimise_row(KEY, rec)
    assert len(row) == len(dataclass_fields(RosterCard)) and RosterCard.from_row(row).row() == row
    assert minimise(KEY, rec).benefit_level == 3  # digits in a string, as some exports write them
    for bad in ({"card_number": "HS4404012345678", "benefit_level": True},
                {"card_number": "HS4404012345678", "full_name": 12},
                ["HS4404012345678"]):
        with pytest.raises(BadCard):
            minimise_row(KEY, bad)
    assert FIELDS[0] == "card_number" and "replaced_by" in FIELDS
    s = minimise(KEY, rec).summary()
    assert s == {"beneficiary_group": "HS", "benefit_level": 3, "province_code": "40", "facility_code": None,
                 "valid_from": "2026-01-01", "valid_to": None, "five_year_date": None, "living_area": None,
                 "status": "active", "replaced": False}


def test_ticket_value_type():
    t = Ticket("Trạm Y tế xã Nghi Phú", 12, "Khám bệnh", "26/11/2026 08:05")
    assert t.heading == "Số thứ tự" and t.footer == ""
