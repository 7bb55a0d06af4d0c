"""The tables kept as data, the ICAO check digit, and the error messages' privacy."""

from __future__ import annotations

import json

import pytest

from kiosk import documents
from kiosk.documents import ParseError, load_bhyt_groups
from kiosk.documents.mrz import check_digit
from kiosk.documents.tables import provinces
from tests.documents.payloads import CCCD_1, bhyt, cccd

# ICAO 9303-11 worked examples (shared/vectors/icao9303-part11-worked-examples.json, "mrz_information").
ICAO_MRZ_INFORMATION = ["L898902C<369080619406236", "T22000129364081251010318"]


@pytest.mark.parametrize("info", ICAO_MRZ_INFORMATION)
def test_check_digit_matches_icao_worked_examples(info):
    number, dob, expiry = info[0:9], info[10:16], info[17:23]
    assert check_digit(number) == info[9] and check_digit(dob) == info[16] and check_digit(expiry) == info[23]


def test_group_table_from_data():
    t = load_bhyt_groups()
    assert t.level_of("HS") == 4 and t.level_of("CC") == 1 and t.level_of("QN") == 5 and t.level_of("ZZ") is None
    assert t.allows("CT", 2) and t.allows("CT", 4) and not t.allows("HS", 1)
    assert t.benefit_percent(3) == 95 and t.benefit_percent(4) == 80 and t.benefit_percent(9) is None
    assert len(t.groups) == 43


def test_a_corrected_table_changes_the_parse(tmp_path, monkeypatch):
    from kiosk.documents import tables
    raw = json.loads((tables.DATA_DIR / "bhyt_groups.json").read_text(encoding="utf-8"))
    raw["groups"]["HS"]["levels"] = [1]
    path = tmp_path / "groups.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    corrected = load_bhyt_groups(path)
    assert corrected.allows("HS", 1) and not corrected.allows("HS", 4)
    monkeypatch.setattr(tables, "_default_groups", lambda: corrected)
    assert documents.parse(bhyt("old", card="HS1401234567890")).warnings == []
    assert documents.parse(bhyt("old")).warnings == ["bhyt_group_level_mismatch"]


def test_bad_table_is_rejected(tmp_path):
    path = tmp_path / "groups.json"
    path.write_text(json.dumps({"benefit_levels": {"1": {"benefit_percent": 100}}, "groups": {"hs": {"levels": [1]}}}))
    with pytest.raises(ValueError):
        load_bhyt_groups(path)


def test_provinces():
    p = provinces()
    assert len(p) == 63 and p["40"] == "Nghệ An" and p["01"] == "Hà Nội" and p["96"] == "Cà Mau" and "03" not in p


@pytest.mark.parametrize("payload", [
    cccd(dob="31021995"), cccd(id="04019500123X"), cccd(sex="Nu"), cccd(old="18654321"),
    bhyt(management="0101401234567"), bhyt(card="4012345678X"), bhyt(facility="4O - 123"),
])
def test_errors_do_not_quote_personal_values(payload):
    with pytest.raises(ParseError) as info:
        documents.parse(payload)
    message = str(info.value)
    for value in ["1995", "040195", "186543", "401234567", "0101401234567", "Nu"]:
        assert value not in message, message


def test_parse_error_field_is_set_for_field_errors():
    with pytest.raises(ParseError) as info:
        documents.parse(CCCD_1.replace("12051995", "12/05/1995"))
    assert info.value.field == "date_of_birth"
