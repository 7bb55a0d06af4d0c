import re
from pathlib import Path

import pytest

from kiosk import config
from kiosk.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_without_any_file(tmp_path):
    cfg = config.load(None, None, env={})
    assert cfg["facility.code"] == "40999"
    assert cfg.database == cfg.data_dir / "kiosk.db"


def test_lookup_order_explicit_then_env(tmp_path):
    a = tmp_path / "a.toml"
    b = tmp_path / "b.toml"
    a.write_text('[facility]\ncode = "40123"\n')
    b.write_text('[facility]\ncode = "40456"\n')
    assert config.load(str(a), None, env={"KIOSK_CONFIG": str(b)})["facility.code"] == "40123"
    assert config.load(None, None, env={"KIOSK_CONFIG": str(b)})["facility.code"] == "40456"


def test_data_dir_option_beats_env_beats_file(tmp_path):
    f = tmp_path / "k.toml"
    f.write_text(f'[storage]\ndata_dir = "{tmp_path / "file"}"\n')
    assert config.load(str(f), None, env={}).data_dir == tmp_path / "file"
    assert config.load(str(f), None, env={"KIOSK_DATA_DIR": str(tmp_path / "env")}).data_dir == tmp_path / "env"
    assert config.load(str(f), str(tmp_path / "opt"), env={"KIOSK_DATA_DIR": "x"}).data_dir == tmp_path / "opt"


def test_relative_database_lives_in_data_dir(tmp_path):
    f = tmp_path / "k.toml"
    f.write_text('[storage]\ndatabase = "x.db"\n')
    assert config.load(str(f), str(tmp_path), env={}).database == tmp_path / "x.db"


@pytest.mark.parametrize("toml, needle", [
    ('[scanner]\nbauds = 9600\n', "scanner.bauds"),
    ('[scanner]\nbaud = "fast"\n', "scanner.baud: expected an integer"),
    ('[scanner]\nbaud = true\n', "scanner.baud"),
    ('[facility]\ncode = "4012"\n', "facility.code: expected 5 digits"),
    ('[ui]\nlanguage = "fr"\n', "ui.language"),
    ('[upstream]\nurl = "ftp://hub"\n', "upstream.url"),
    ('unknown = 1\n', "unknown"),
    ('[facility\n', "not valid TOML"),
])
def test_bad_keys_and_values_name_the_key(tmp_path, toml, needle):
    f = tmp_path / "k.toml"
    f.write_text(toml)
    with pytest.raises(ConfigError) as e:
        config.load(str(f), None, env={})
    assert needle in str(e.value)
    assert e.value.exit_code == 2


def test_missing_explicit_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        config.load(str(tmp_path / "nope.toml"), None, env={})


def test_every_key_is_documented_with_its_default():
    doc = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    for key in config.SCHEMA:
        row = next((line for line in doc.splitlines() if f"`{key.name}`" in line and line.startswith("|")
                    and f"[{key.section}]" in _section_of(doc, line)), None)
        assert row, f"{key.dotted} is not documented in docs/configuration.md"
        shown = str(key.default).lower() if isinstance(key.default, bool) else str(key.default)
        assert shown in row or (shown == "" and "(empty)" in row), f"{key.dotted}: default {shown!r} not shown"


def _section_of(doc: str, line: str) -> str:
    before = doc[: doc.index(line)]
    heads = re.findall(r"^## `(\[[a-z]+\])`", before, re.M)
    return heads[-1] if heads else ""
