"""The eligibility rules as pure functions over (card, presented identity, visit date, facility, rule set).

No I/O and no keys here: the caller hashes what the patient presented
(`Presented`) and loads the dated rule data (`RuleBook.load()`); `decide()`
only compares and looks dates up. Result codes are the national lookup's
where it has one, else the project's K-codes (docs/eligibility.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib import resources
from typing import Any

from kiosk.eligibility.cards import RosterCard

NOT_YET_VALID = "K01"
CANNOT_VERIFY = "K02"
OTHER_PROVINCE = "K03"

USABLE = frozenset({"000", "001", "002", "003", "004"})

DECREASED = {"decreased_moved_out": ("121", "chuyển đi tỉnh khác"),
             "decreased_moved_within": ("122", "chuyển nơi tham gia trong tỉnh"),
             "decreased_reenrolled": ("123", "tham gia lại tại cùng đơn vị"),
             "decreased_stopped": ("124", "dừng tham gia")}

# Every code decide() and the check around it can give, with its meaning (docs/eligibility.md).
CODES = {
    "000": "card valid", "003": "old card expired, a new card was issued",
    "004": "old card still valid, a new card was issued", "010": "card expired",
    "060": "name does not match the card", "070": "date of birth does not match the card",
    "110": "card revoked", "121": "decreased: moved to another province",
    "122": "decreased: moved within the province", "123": "decreased: re-enrolled at the same unit",
    "124": "decreased: stopped participating",
    NOT_YET_VALID: "card not yet valid on the visit date",
    CANNOT_VERIFY: "cannot verify now (not on the roster and no online answer)",
    OTHER_PROVINCE: "registered in another province (or at a provincial/central facility): not at the right "
                    "level at this station, not covered except emergencies",
}


def vn(d: date) -> str:
    return d.strftime("%d/%m/%Y")


# --- dated rule data -------------------------------------------------------

def _load_json(name: str) -> dict:
    return json.loads(resources.files("kiosk.eligibility").joinpath("data", name).read_text(encoding="utf-8"))


def _dated(entries: list[dict]) -> list[tuple[date, dict]]:
    out = sorted((date.fromisoformat(e["from"]), e) for e in entries)
    if not out:
        raise ValueError("rule data: no entries")
    return out


@dataclass(frozen=True)
class RuleSet:
    """The rules in force on one date: merged rule entries, the level tables and the base salary."""

    on: date
    params: dict[str, Any]
    group_level: dict[str, int]
    level_percent: dict[int, int]
    base_salary_vnd: int
    sources: tuple[str, ...] = ()

    def level_of(self, card: RosterCard) -> int | None:
        return card.benefit_level or self.group_level.get(card.beneficiary_group or "")


@dataclass(frozen=True)
class RuleBook:
    """The dated rule data. The group → level table is the documents' (kiosk/documents/data/bhyt_groups.json,
    shared with the QR parser); a decree that changes it from a date is a `group_levels` / `level_percent`
    override in a rules.json entry."""

    rules: list[tuple[date, dict]]
    salaries: list[tuple[date, dict]]
    group_level: dict[str, int]
    level_percent: dict[int, int]

    @classmethod
    def load(cls) -> "RuleBook":
        from kiosk.documents.tables import load_bhyt_groups
        table = load_bhyt_groups()
        return cls(_dated(_load_json("rules.json")["entries"]), _dated(_load_json("base_salary.json")["entries"]),
                   {g: table.level_of(g) for g in table.groups},
                   {lvl: entry.benefit_percent for lvl, entry in table.levels.items()})

    def for_date(self, d: date) -> RuleSet:
        params: dict[str, Any] = {}
        sources = []
        group_level, level_percent = dict(self.group_level), dict(self.level_percent)
        for i, (start, entry) in enumerate(self.rules):
            if start <= d or i == 0:  # before the first entry: the earliest known rules
                params.update({k: v for k, v in entry.items()
                               if k not in ("from", "source", "group_levels", "level_percent")})
                group_level.update({g: int(v) for g, v in entry.get("group_levels", {}).items()})
                level_percent.update({int(k): int(v) for k, v in entry.get("level_percent", {}).items()})
                sources.append(entry.get("source", ""))
        salary = _latest(self.salaries, d)
        return RuleSet(d, params, group_level, level_percent, int(salary["vnd"]), tuple(sources))


def _latest(entries: list[tuple[date, dict]], d: date) -> dict:
    chosen = entries[0][1]  # before the first entry: the earliest known values
    for start, entry in entries:
        if start <= d:
            chosen = entry
    return chosen


# --- inputs and output ----------------------------------------------------------

@dataclass(frozen=True)
class Facility:
    """This station. `commune_station` is what makes levels 3 and 4 paid in full."""

    code: str
    commune_station: bool = True

    @property
    def province(self) -> str:
        return self.code[:2]


@dataclass(frozen=True)
class Presented:
    """What the card or chip said about the person, as keyed hashes (None: not checked)."""

    name_key: int | None = None
    birth_keys: frozenset[int] | None = None  # any of these matches (full date, or its year)


@dataclass(frozen=True)
class Decision:
    result_code: str
    benefit_percent: int
    reason: str
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def usable(self) -> bool:
        return self.result_code in USABLE


# --- the rules ---------------------------------------------------------------

def decide(card: RosterCard, presented: Presented, visit_date: date, facility: Facility, rules: RuleSet, *,
           admitted_on: date | None = None, replacement: RosterCard | None = None) -> Decision:
    """The answer for this card on this visit date at this facility.

    Order: status (revoked, decreased) → identity (name, birth date) →
    replacement → validity dates (with the inpatient grace) → registered
    facility (same-province rule, living area) → benefit percentage.
    """
    if card.status == "revoked":
        return Decision("110", 0, "Thẻ BHYT đã bị thu hồi")
    if card.status in DECREASED:
        code, why = DECREASED[card.status]
        return Decision(code, 0, f"Thẻ BHYT đã báo giảm ({why})")
    if presented.name_key is not None and card.name_key is not None and presented.name_key != card.name_key:
        return Decision("060", 0, "Họ tên không khớp với dữ liệu thẻ BHYT")
    if presented.birth_keys is not None and card.birth_key is not None and card.birth_key not in presented.birth_keys:
        return Decision("070", 0, "Ngày sinh không khớp với dữ liệu thẻ BHYT")
    if card.status == "replaced":
        return _replaced(card, presented, visit_date, facility, rules, admitted_on, replacement)
    return _coverage(card, visit_date, facility, rules, admitted_on)


def _replaced(card, presented, visit_date, facility, rules, admitted_on, replacement) -> Decision:
    if _in_dates(card, visit_date):
        d = _coverage(card, visit_date, facility, rules, admitted_on)
        if not d.usable:
            return d
        return Decision("004", d.benefit_percent, "Thẻ cũ còn hạn, đã cấp thẻ mới — " + d.reason,
                        {**d.details, "replaced": True, **_new_card(replacement)})
    if replacement is None:
        level = rules.level_of(card)
        return Decision("003", _percent(level, True, facility, rules),
                        "Thẻ cũ hết hạn, đã cấp thẻ mới (chưa có trong danh sách: xem thẻ mới)",
                        {"replaced": True, "level": level})
    # The new card answers for itself (its own status and dates); identity was checked on the old one.
    d = decide(replacement, Presented(), visit_date, facility, rules, admitted_on=admitted_on)
    if not d.usable:
        return Decision(d.result_code, d.benefit_percent, "Thẻ mới: " + d.reason,
                        {**d.details, "replaced": True, **_new_card(replacement)})
    return Decision("003", d.benefit_percent, "Thẻ cũ hết hạn, dùng thẻ mới — " + d.reason,
                    {**d.details, "replaced": True, **_new_card(replacement)})


def _new_card(new: RosterCard | None) -> dict:
    if new is None:
        return {}
    return {"new_valid_from": new.valid_from.isoformat() if new.valid_from else None,
            "new_valid_to": new.valid_to.isoformat() if new.valid_to else None,
            "new_facility_code": new.facility_code}


def _in_dates(card: RosterCard, d: date) -> bool:
    return (card.valid_from is None or card.valid_from <= d) and (card.valid_to is None or d <= card.valid_to)


def _coverage(card: RosterCard, visit_date: date, facility: Facility, rules: RuleSet,
              admitted_on: date | None) -> Decision:
    details: dict[str, Any] = {}
    notes: list[str] = []
    if card.valid_from and visit_date < card.valid_from:
        return Decision(NOT_YET_VALID, 0, f"Thẻ BHYT chưa đến hạn sử dụng (từ {vn(card.valid_from)})")
    if card.valid_to and visit_date > card.valid_to:
        grace = rules.params.get("inpatient_grace_days")
        covered_to = None if grace is None else card.valid_to + timedelta(days=grace)
        if admitted_on is None or admitted_on > card.valid_to or (covered_to and visit_date > covered_to):
            return Decision("010", 0, f"Thẻ BHYT đã hết hạn ngày {vn(card.valid_to)}")
        details["inpatient_grace_until"] = covered_to.isoformat() if covered_to else "discharge"
        notes.append("đang điều trị nội trú khi thẻ hết hạn: hưởng đến khi ra viện"
                     + (f", tối đa đến {vn(covered_to)}" if covered_to else ""))

    registration = _registration(card, facility, rules)
    details["registration"] = registration
    level = rules.level_of(card)
    details["level"] = level
    if card.living_area:
        details["living_area"] = card.living_area
    if registration in ("other_province", "upper_level"):
        where = "ở tỉnh khác" if registration == "other_province" else "ở cơ sở tuyến tỉnh/trung ương"
        return Decision(OTHER_PROVINCE, 0, f"Đăng ký KCB ban đầu {where}: khám trái tuyến, "
                        "BHYT không chi trả (trừ cấp cứu)", details)
    percent = _percent(level, True, facility, rules)
    if not facility.commune_station:
        details["low_cost_threshold_vnd"] = int(rules.base_salary_vnd * rules.params["low_cost_share_of_base_salary"])
    details["base_salary_vnd"] = rules.base_salary_vnd
    where = {"registered_here": "đúng nơi đăng ký",
             "same_province": "thông tuyến trong tỉnh",
             "living_area": f"vùng {card.living_area}, hưởng như đúng tuyến",
             "unknown": "chưa rõ nơi đăng ký"}[registration]
    if card.five_year_date and card.five_year_date <= visit_date:
        details["five_year_reached"] = True
        notes.append(f"đủ 5 năm liên tục từ {vn(card.five_year_date)}")
    elif card.five_year_date:
        details["five_year_reached"] = False
    text = f"Thẻ BHYT hợp lệ, hưởng {percent}% ({where})"
    return Decision("000", percent, "; ".join([text] + notes), details)


def _registration(card: RosterCard, facility: Facility, rules: RuleSet) -> str:
    if card.facility_code == facility.code:
        return "registered_here"
    province = card.facility_code[:2] if card.facility_code else card.province_code
    if province is None:
        return "unknown"
    primary = card.facility_code not in rules.params.get("upper_level_facilities", [])
    if province == facility.province and primary and rules.params.get("same_province_primary"):
        return "same_province"
    if card.living_area in rules.params.get("full_at_right_level_living_areas", []):
        return "living_area"
    return "other_province" if province != facility.province else "upper_level"


def _percent(level: int | None, right_level: bool, facility: Facility, rules: RuleSet) -> int:
    """Level percentage; levels 3 and 4 in full at a commune station when at the right level."""
    if level is None:
        return 0
    if right_level and facility.commune_station and level in rules.params.get("commune_station_full_levels", []):
        return 100
    return rules.level_percent.get(level, 0)
