"""The eligibility rules as pure functions over (card, presented identity, visit date, facility, rule set).

No I/O and no keys here: the caller hashes what the patient presented
(`Presented`) and loads the dated rule data (`RuleBook.load()`); `decide()`
only compares and looks dates up. Result codes are the national lookup's
where it has one, else the project's K-codes (docs/eligibility.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib import resources
from typing import Literal, TypedDict

from kiosk.documents.tables import json_int, json_list, json_object, json_str, load_bhyt_groups, read_json_object
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

class RuleParams(TypedDict, total=False):
    """The rule parameters a rules.json entry may set; later entries override only the keys they give."""

    same_province_primary: bool  # thông tuyến: a primary facility in the province counts as the right level
    commune_station_full_levels: list[int]  # levels paid in full at a commune station
    low_cost_share_of_base_salary: float  # a visit under this share of the base salary is paid in full
    full_at_right_level_living_areas: list[str]  # K1–K3: paid as at the right level anywhere
    inpatient_grace_days: int | None  # inpatient cover after the card's end date (None: until discharge)
    upper_level_facilities: list[str]  # provincial/central facilities: never "same province primary"


@dataclass(frozen=True)
class RuleEntry:
    """One dated entry of rules.json: the parameters it sets and any level-table overrides from its date."""

    start: date
    source: str
    params: RuleParams
    group_levels: Mapping[str, int] = field(default_factory=dict)
    level_percent: Mapping[int, int] = field(default_factory=dict)

    @classmethod
    def from_json(cls, start: date, e: Mapping[str, object], where: str = "rules.json entry") -> "RuleEntry":
        """An entry as written in rules.json (its "from" already read as `start`); ValueError names a bad key."""
        p: RuleParams = {}
        for k, v in e.items():
            at = f"{where}.{k}"
            if k in ("from", "source", "group_levels", "level_percent"):
                continue
            if k == "same_province_primary":
                p["same_province_primary"] = _flag(v, at)
            elif k == "commune_station_full_levels":
                p["commune_station_full_levels"] = [json_int(x, at) for x in json_list(v, at)]
            elif k == "low_cost_share_of_base_salary":
                p["low_cost_share_of_base_salary"] = _share(v, at)
            elif k == "full_at_right_level_living_areas":
                p["full_at_right_level_living_areas"] = [json_str(x, at) for x in json_list(v, at)]
            elif k == "inpatient_grace_days":
                p["inpatient_grace_days"] = None if v is None else json_int(v, at)
            elif k == "upper_level_facilities":
                p["upper_level_facilities"] = [json_str(x, at) for x in json_list(v, at)]
            else:
                raise ValueError(f"{at}: not a rule parameter (see RuleParams)")
        groups = json_object(e.get("group_levels", {}), f"{where}.group_levels")
        percents = json_object(e.get("level_percent", {}), f"{where}.level_percent")
        return cls(start, json_str(e.get("source", ""), f"{where}.source"), p,
                   {g: json_int(v, f"{where}.group_levels.{g}") for g, v in groups.items()},
                   {json_int(k, f"{where}.level_percent"): json_int(v, f"{where}.level_percent.{k}")
                    for k, v in percents.items()})


@dataclass(frozen=True)
class BaseSalary:
    start: date
    vnd: int


def _load_json(name: str) -> dict[str, object]:
    text = resources.files("kiosk.eligibility").joinpath("data", name).read_text(encoding="utf-8")
    return read_json_object(text, f"kiosk/eligibility/data/{name}")


def _entries(name: str) -> list[tuple[date, dict[str, object]]]:
    """The file's entries, oldest first, each with the date it takes effect."""
    out: list[tuple[date, dict[str, object]]] = []
    for i, e in enumerate(json_list(_load_json(name).get("entries"), f"{name}: entries")):
        entry = json_object(e, f"{name}: entries[{i}]")
        try:
            start = date.fromisoformat(json_str(entry.get("from"), f"{name}: entries[{i}].from"))
        except ValueError as err:
            raise ValueError(f"{name}: entries[{i}].from: expected an ISO date ({err})") from None
        out.append((start, entry))
    if not out:
        raise ValueError("rule data: no entries")
    out.sort(key=lambda se: se[0])
    return out


def _flag(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{where}: expected true or false")
    return value


def _share(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{where}: expected a number")
    return float(value)


@dataclass(frozen=True)
class RuleSet:
    """The rules in force on one date: merged rule entries, the level tables and the base salary."""

    on: date
    params: RuleParams
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

    rules: list[RuleEntry]  # oldest first
    salaries: list[BaseSalary]  # oldest first
    group_level: dict[str, int]
    level_percent: dict[int, int]

    @classmethod
    def load(cls) -> "RuleBook":
        table = load_bhyt_groups()
        rules = [RuleEntry.from_json(start, e, f"rules.json: entries[{i}]")
                 for i, (start, e) in enumerate(_entries("rules.json"))]
        salaries = [BaseSalary(start, json_int(e.get("vnd"), f"base_salary.json: entries[{i}].vnd"))
                    for i, (start, e) in enumerate(_entries("base_salary.json"))]
        return cls(rules, salaries, {g: levels[0] for g, levels in table.groups.items()},  # never empty: checked
                   {lvl: entry.benefit_percent for lvl, entry in table.levels.items()})

    def for_date(self, d: date) -> RuleSet:
        params: RuleParams = {}
        sources = []
        group_level, level_percent = dict(self.group_level), dict(self.level_percent)
        for i, entry in enumerate(self.rules):
            if entry.start <= d or i == 0:  # before the first entry: the earliest known rules
                params.update(entry.params)
                group_level.update(entry.group_levels)
                level_percent.update(entry.level_percent)
                sources.append(entry.source)
        salary = self.salaries[0]  # before the first entry: the earliest known value
        for s in self.salaries:
            if s.start <= d:
                salary = s
        return RuleSet(d, params, group_level, level_percent, salary.vnd, tuple(sources))


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


Registration = Literal["registered_here", "same_province", "living_area", "unknown", "other_province",
                       "upper_level"]


class DecisionDetails(TypedDict, total=False):
    """What a decision rests on, for screens, paper and the stored result (each key only when it applies)."""

    registration: Registration  # where the card's primary-care registration puts this visit
    level: int | None  # benefit level (card, else group table)
    living_area: str  # K1–K3
    inpatient_grace_until: str  # ISO date, or "discharge"
    low_cost_threshold_vnd: int
    base_salary_vnd: int
    five_year_reached: bool
    replaced: bool
    new_valid_from: str | None  # the replacement card, when the roster has it
    new_valid_to: str | None
    new_facility_code: str | None


@dataclass(frozen=True)
class Decision:
    result_code: str
    benefit_percent: int
    reason: str
    details: DecisionDetails = field(default_factory=lambda: DecisionDetails())

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


def _replaced(card: RosterCard, presented: Presented, visit_date: date, facility: Facility, rules: RuleSet,
              admitted_on: date | None, replacement: RosterCard | None) -> Decision:
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


def _new_card(new: RosterCard | None) -> DecisionDetails:
    if new is None:
        return {}
    return {"new_valid_from": new.valid_from.isoformat() if new.valid_from else None,
            "new_valid_to": new.valid_to.isoformat() if new.valid_to else None,
            "new_facility_code": new.facility_code}


def _in_dates(card: RosterCard, d: date) -> bool:
    return (card.valid_from is None or card.valid_from <= d) and (card.valid_to is None or d <= card.valid_to)


def _coverage(card: RosterCard, visit_date: date, facility: Facility, rules: RuleSet,
              admitted_on: date | None) -> Decision:
    details: DecisionDetails = {}
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


def _registration(card: RosterCard, facility: Facility, rules: RuleSet) -> Registration:
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
