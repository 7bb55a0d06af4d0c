"""The text catalogue (kiosk/text/messages.toml): both languages everywhere, no key missing, none unused."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from kiosk import text
from kiosk.text import catalogue, fields, t

ROOT = Path(__file__).resolve().parents[2]


def _code() -> list[Path]:
    return [p for d in ("kiosk", "drivers", "ui", "sync") for p in sorted((ROOT / d).rglob("*.py"))]
DOCTOR = ROOT / "kiosk" / "doctor"


def _keys_in(node: ast.AST) -> list[str]:
    """The literal keys an argument can be: a string, or either branch of `a if c else b`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _keys_in(node.body) + _keys_in(node.orelse)
    return []


def _scan() -> tuple[set[str], list[tuple[str, str]]]:
    """(every string literal in the code, [(file, key) for each literal key passed to t() or both()])."""
    literals: set[str] = set()
    calls: list[tuple[str, str]] = []
    for path in _code():
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source)
        in_doctor = DOCTOR in path.parents
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                literals.add(node.value)
                if in_doctor:  # the doctor's Env.t prefixes "doctor."
                    literals.add(f"doctor.{node.value}")
        if not in_doctor and "kiosk.text" not in source and "from kiosk import text" not in source:
            continue  # a `t` here is some other function
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in ("t", "both"):
                for key in _keys_in(node.args[0]):
                    calls.append((str(path.relative_to(ROOT)), f"doctor.{key}" if in_doctor and
                                  not key.startswith("doctor.") else key))
    return literals, calls


def test_every_key_has_vi_and_en_with_the_same_fields():
    assert catalogue(), "the catalogue is empty"
    for key, entry in catalogue().items():
        assert set(entry) == set(text.LANGUAGES), f"{key}: languages {sorted(entry)}"
        assert all(entry[lang].strip() for lang in text.LANGUAGES), f"{key}: an empty text"
        assert fields(entry["vi"]) == fields(entry["en"]), f"{key}: fields differ between vi and en"


def test_every_key_the_code_asks_for_exists():
    _, calls = _scan()
    assert len(calls) > 150, "the scan found too few t() calls: has the code moved?"
    missing = sorted({f"{where}: {key}" for where, key in calls if key not in catalogue()})
    assert not missing, "keys used but not in kiosk/text/messages.toml:\n" + "\n".join(missing)


def test_no_key_is_unused():
    literals, _ = _scan()
    checkin = (ROOT / "kiosk" / "services" / "checkin.py").read_text(encoding="utf-8")

    def used(key: str) -> bool:
        if key in literals:
            return True
        # Refusal.message_key is f"refused.{reason}": the reason is the literal in the code.
        return key.startswith("refused.") and f'Refusal("{key.removeprefix("refused.")}"' in checkin
    unused = sorted(k for k in catalogue() if not used(k))
    assert not unused, "keys in kiosk/text/messages.toml that no code uses:\n" + "\n".join(unused)


def test_t_fills_fields_and_falls_back():
    assert t("voice.call", "vi", number=12, room="phòng khám") == "Mời số 12 vào phòng khám"
    assert t("voice.call", "en", number=3, room="room 2") == "Number 3, please go to the room 2"
    assert t("ticket.heading", "fr") == t("ticket.heading", "vi")  # a language we lack: Vietnamese
    assert t("no.such.key") == "no.such.key"  # a bug the tests above catch; never a crash at the kiosk


def test_a_missing_field_is_an_error_in_tests():
    with pytest.raises(KeyError):
        t("voice.call", "vi", number=1)


def test_both_languages_on_one_line():
    assert text.both("cli.alarm") == "CẢNH BÁO / ALARM"
