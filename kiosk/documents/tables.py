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


def _read(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def load_bhyt_groups(path: str | Path | None = None) -> BhytGroupTable:
    """The BHYT group/level table; the packaged file unless `path` names another (cached when default)."""
    return _default_groups() if path is None else _groups_from(Path(path))


def _groups_from(path: Path) -> BhytGroupTable:
    raw = _read(path)
    levels = {int(k): BenefitLevel(int(k), int(v["benefit_percent"]), v.get("note", ""))
              for k, v in raw["benefit_levels"].items()}
    groups = {g: tuple(int(x) for x in v["levels"]) for g, v in raw["groups"].items()}
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
    return MappingProxyType(dict(_read(DATA_DIR / "provinces.json")["provinces"]))
