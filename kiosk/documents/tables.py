"""Reference tables kept as data (kiosk/documents/data/*.json), not code.

The BHYT group/level table is uncertain in places (CT: level 2 or 4), so it
lives in a JSON file that can be corrected on a device without a release.
Eligibility reads the same table through :func:`load_bhyt_groups`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class BenefitLevel:
    level: int
    benefit_percent: int
    note: str = ""


@dataclass(frozen=True)
class BhytGroupTable:
    """Beneficiary group (2 letters) → the benefit levels its card may carry (first = usual)."""

    groups: Mapping[str, tuple[int, ...]]
    levels: Mapping[int, BenefitLevel]

    def knows(self, group: str) -> bool:
        return group in self.groups

    def level_of(self, group: str) -> int | None:
        """The usual benefit level of a group, or None for a group not in the table."""
        levels = self.groups.get(group)
        return levels[0] if levels else None

    def allows(self, group: str, level: int) -> bool:
        return level in self.groups.get(group, ())

    def benefit_percent(self, level: int) -> int | None:
        entry = self.levels.get(level)
        return entry.benefit_percent if entry else None


# --- checked JSON: a data file is corrected by hand, so its shape is checked before it becomes typed values ---

def json_object(value: object, where: str) -> dict[str, object]:
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected a JSON object")
    return value


def json_list(value: object, where: str) -> list[object]:
    if not isinstance(value, list):
        raise ValueError(f"{where}: expected a JSON list")
    return value


def json_int(value: object, where: str) -> int:
    """A whole number, as a JSON number or digits in a string ("80"); true/false are not numbers."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"{where}: expected a whole number")
    try:
        return int(value)
    except ValueError:
        raise ValueError(f"{where}: expected a whole number") from None


def json_str(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{where}: expected text")
    return value


def read_json_object(text: str, where: str) -> dict[str, object]:
    try:
        data: object = json.loads(text)
    except ValueError as e:
        raise ValueError(f"{where}: not JSON ({e})") from None
    return json_object(data, where)


def _read(path: Path) -> dict[str, object]:
    return read_json_object(path.read_text(encoding="utf-8"), str(path))


def load_bhyt_groups(path: str | Path | None = None) -> BhytGroupTable:
    """The BHYT group/level table; the packaged file unless `path` names another (cached when default)."""
    return _default_groups() if path is None else _groups_from(Path(path))


def _groups_from(path: Path) -> BhytGroupTable:
    raw = _read(path)
    levels: dict[int, BenefitLevel] = {}
    for k, v in json_object(raw.get("benefit_levels"), f"{path}: benefit_levels").items():
        where = f"{path}: benefit_levels.{k}"
        entry = json_object(v, where)
        level = json_int(k, where)
        levels[level] = BenefitLevel(level, json_int(entry.get("benefit_percent"), f"{where}.benefit_percent"),
                                     json_str(entry.get("note", ""), f"{where}.note"))
    groups: dict[str, tuple[int, ...]] = {}
    for g, v in json_object(raw.get("groups"), f"{path}: groups").items():
        where = f"{path}: groups.{g}.levels"
        groups[g] = tuple(json_int(x, where) for x in json_list(json_object(v, where).get("levels"), where))
    for g, lv in groups.items():
        if len(g) != 2 or not g.isalpha() or not g.isupper() or not lv or any(x not in levels for x in lv):
            raise ValueError(f"{path}: group {g!r} needs two capital letters and levels from benefit_levels")
    return BhytGroupTable(MappingProxyType(groups), MappingProxyType(levels))


@lru_cache(maxsize=1)
def _default_groups() -> BhytGroupTable:
    return _groups_from(DATA_DIR / "bhyt_groups.json")


@lru_cache(maxsize=1)
def provinces() -> Mapping[str, str]:
    """Two-digit province code → name (the 63 codes before the 2025 merger; earlier cards keep them)."""
    path = DATA_DIR / "provinces.json"
    return MappingProxyType({code: json_str(name, f"{path}: provinces.{code}")
                             for code, name in json_object(_read(path).get("provinces"), f"{path}: provinces").items()})
