from __future__ import annotations

import os
from datetime import datetime

import pytest

from kiosk import config
from kiosk.privacy import datakey
from kiosk.clock import VN_TZ, FixedClock

# Invented people with the shapes of real ones: Vietnamese names with diacritics, 12-digit IDs, addresses.
SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng"]
GIVEN = ["Thị Hồng Nhung", "Văn Quyết", "Minh Châu", "Thị Thu Hương", "Đức Thắng", "Ngọc Ánh", "Văn Tường",
         "Thị Bích Ngọc", "Quốc Bảo", "Thanh Tâm"]


def person(i: int) -> dict:
    name = f"{SURNAMES[i % 10]} {GIVEN[(i // 10) % 10]} {'Xuân Hạ Thu Đông'.split()[i % 4]}"
    id_number = f"0401{95 + i % 4:02d}{(i * 7919) % 1000000:06d}"[:12]
    female = i % 2 == 1
    century_sex = "1" if female else "0"  # G digit for 19xx: 0 male, 1 female
    id_number = id_number[:3] + century_sex + id_number[4:]
    dob = f"{(i % 27) + 1:02d}{(i % 12) + 1:02d}19{95 + i % 4:02d}"
    address = f"Xóm {i % 9 + 1}, Xã Nghi Phong {i}, Huyện Nghi Lộc, Nghệ An"
    payload = f"{id_number}||{name}|{dob}|{'Nữ' if female else 'Nam'}|{address}|03062021"
    return {"name": name, "id_number": id_number, "address": address, "payload": payload}


@pytest.fixture
def privacy_cfg(tmp_path):
    """A provisioned layout: data directory and, apart from it, the key directory."""
    data = tmp_path / "data"
    keys = tmp_path / "keys"
    data.mkdir()
    keys.mkdir()
    toml = tmp_path / "kiosk.toml"
    toml.write_text(f'[storage]\ndata_dir = "{data}"\n[privacy]\ndata_key_file = "{keys / "data.key"}"\n'
                    '[facility]\ncode = "40123"\n')
    datakey.create(keys / "data.key")
    cfg = config.load(str(toml), None, env={})
    cfg.toml = toml  # type: ignore[attr-defined]
    return cfg


@pytest.fixture
def cli_env(privacy_cfg):
    env = dict(os.environ)
    env.pop("KIOSK_DATA_DIR", None)
    env["KIOSK_CONFIG"] = str(privacy_cfg.toml)
    return env


@pytest.fixture
def vn_clock():
    return FixedClock(datetime(2026, 11, 26, 9, 30, tzinfo=VN_TZ))
