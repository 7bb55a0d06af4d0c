"""Synthetic roster files of invented people, for tests and bench/roster.py (no real person is in them)."""

from __future__ import annotations

import gzip
import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Iterable, Iterator

import orjson

from kiosk.eligibility.cards import STATUSES

_GROUPS = ["HS", "SV", "GD", "HT", "TE", "CN", "DN", "HC", "CK", "QN", "NO", "CC", "HN"]
_LEVEL = {"HS": 4, "SV": 4, "GD": 4, "HT": 3, "TE": 1, "CN": 3, "DN": 4, "HC": 4, "CK": 2, "QN": 5, "NO": 4,
          "CC": 1, "HN": 2}
_FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Phan", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô"]
_MIDDLE = ["Văn", "Thị", "Hữu", "Đức", "Minh", "Ngọc", "Thanh", "Xuân"]
_GIVEN = ["An", "Bình", "Cường", "Dung", "Giang", "Hà", "Hải", "Hoa", "Hùng", "Lan", "Linh", "Nam", "Phương",
          "Quân", "Sơn", "Tâm", "Thảo", "Trang", "Tuấn", "Yến"]


def card(i: int, rng: random.Random, base: date = date(2026, 1, 1)) -> dict[str, Any]:
    """Card number i: unique card code, ID number and BHXH number derived from i."""
    group = _GROUPS[(i * 7919) % len(_GROUPS)]
    sin = f"40{i:08d}"
    vfrom = base + timedelta(days=rng.randint(-400, 30))
    status = "active" if rng.random() < 0.97 else rng.choice(STATUSES[1:6])
    dob = date(1940, 1, 1) + timedelta(days=rng.randint(0, 30000))
    return {
        "card_number": card_number(i),
        "id_number": f"040{i:09d}" if rng.random() < 0.95 else None,
        "social_insurance_number": sin,
        "full_name": f"{rng.choice(_FAMILY)} {rng.choice(_MIDDLE)} {rng.choice(_GIVEN)} {i % 997}x",
        "date_of_birth": dob.isoformat() if rng.random() < 0.98 else str(dob.year),
        "sex": rng.choice(["male", "female"]),
        "beneficiary_group": group, "benefit_level": _LEVEL[group], "province_code": "40",
        "facility_code": f"40{rng.randint(1, 480):03d}",
        "valid_from": vfrom.isoformat(),
        "valid_to": (vfrom + timedelta(days=365)).isoformat() if rng.random() < 0.9 else None,
        "five_year_date": (vfrom - timedelta(days=rng.randint(0, 4000))).isoformat() if rng.random() < 0.5 else None,
        "living_area": rng.choice([None, None, None, None, "K1", "K2", "K3"]),
        "status": status, "replaced_by": None,
    }


def cards(n: int, seed: int = 6) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    for i in range(n):
        yield card(i, rng)


def write(path: Path, records: Iterable[dict[str, Any]], header: dict[str, Any] | None, gz: bool = False) -> Path:
    with (gzip.open(path, "wb") if gz else open(path, "wb")) as f:
        if header is not None:
            f.write(orjson.dumps(header) + b"\n")
        buf = []
        for rec in records:
            buf.append(orjson.dumps(rec))
            if len(buf) >= 10000:
                f.write(b"\n".join(buf) + b"\n")
                buf = []
        if buf:
            f.write(b"\n".join(buf) + b"\n")
    return path


def snapshot(path: Path, n: int, version: int = 1, seed: int = 6, gz: bool = False) -> Path:
    return write(path, cards(n, seed), {"roster": "snapshot", "version": version}, gz)


def delta(path: Path, n_total: int, changes: int, since: int, seed: int = 7) -> Path:
    """`changes` lines: about 80% updated cards, 10% new cards, 10% deletions."""
    rng = random.Random(seed)

    def recs() -> Iterator[dict[str, Any]]:
        for k in range(changes):
            r = rng.random()
            if r < 0.8:
                c = card(rng.randrange(n_total), rng)
                c["valid_to"] = "2027-12-31"
                yield c
            elif r < 0.9:
                yield card(n_total + k, rng)
            else:
                yield {"delete": card_number(rng.randrange(n_total))}
    return write(path, recs(), {"roster": "delta", "since": since, "until": since + 1})


def card_number(i: int) -> str:
    group = _GROUPS[(i * 7919) % len(_GROUPS)]
    return f"{group}{_LEVEL[group]}4040{i:08d}"
