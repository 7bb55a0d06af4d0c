"""Translations: every string the UI shows is in ui/i18n/{vi,en}.ts, translated, and compiled into the .qm."""

import ast
import re
import shutil
import subprocess
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from ui import i18n  # noqa: E402
from ui.common import MISSING, T  # noqa: E402

UI = Path(i18n.__file__).parent.parent


def test_every_marked_string_is_in_the_ts_files(tmp_path):
    """lupdate over ui/*.py adds nothing new to a copy of the committed vi.ts."""
    shutil.copy(i18n.HERE / "vi.ts", tmp_path / "vi.ts")
    subprocess.run([i18n.tool("lupdate"), *i18n.sources(), "-no-obsolete", "-locations", "none",
                    "-ts", str(tmp_path / "vi.ts")], check=True, capture_output=True)
    text = (tmp_path / "vi.ts").read_text(encoding="utf-8")
    assert 'type="unfinished"' not in text, "new strings: run python -m ui.i18n update, then translate"
    assert text.count("<message>") == len(i18n.messages("vi")), "strings removed: run python -m ui.i18n update"


def test_vietnamese_and_english_are_complete():
    for lang in i18n.LANGS:
        assert i18n.unfinished(lang) == [], f"{lang}.ts has untranslated strings"
    vi = i18n.messages("vi")
    # Vietnamese is really Vietnamese: most strings differ from the English source.
    same = [s for s, t in vi.items() if s == t]
    assert len(same) <= 3, same


def test_qm_files_are_compiled_from_the_current_ts(tmp_path):
    built = i18n.build(tmp_path)
    for qm in built:
        assert qm.read_bytes() == (i18n.HERE / qm.name).read_bytes(), "run: python -m ui.i18n build"


def test_placeholders_survive_translation():
    for src, vi in i18n.messages("vi").items():
        assert set(re.findall(r"\{\w+\}", src)) == set(re.findall(r"\{\w+\}", vi)), src


def test_no_literal_text_bypasses_translation():
    """setText/QLabel/QPushButton with a literal that has letters must go through tr()."""
    bad = []
    for path in sorted(UI.glob("*.py")):
        if path.name in ("demo.py",):  # the developer's simulator window is not part of the product
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in ("setText", "QLabel", "QPushButton", "setPlaceholderText", "addItem", "setWindowTitle"):
                for arg in node.args[:1]:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and re.search(r"[A-Za-z]",
                                                                                                arg.value):
                        bad.append(f"{path.name}:{node.lineno} {arg.value!r}")
    assert bad == [], bad


def test_every_screen_in_both_languages_finds_a_translation(qtbot, bridge, scanner, staff_accounts, tmp_path):
    """Drive every patient and console screen in vi and en; any lookup without a translation is recorded."""
    from tests.ui.conftest import SERVICES, sign_in
    from tests.ui.test_layout import _patient_screens
    from ui.patient.window import KioskWindow
    from ui.console.window import ConsoleWindow
    for lang in MISSING:
        MISSING[lang].clear()
    kiosk = KioskWindow(bridge, "Trạm", "vi", result_timeout_s=60, services=SERVICES)
    qtbot.addWidget(kiosk)
    kiosk.show()
    for _, go in _patient_screens(qtbot, kiosk, scanner, bridge):
        go()
        for lang in ("en", "vi"):
            kiosk.set_language(lang)
    c = ConsoleWindow(bridge, lang="vi", services=SERVICES, facility_address="Xã Thử", export_dir=tmp_path)
    qtbot.addWidget(c)
    c.show()
    qtbot.waitUntil(lambda: c.login.staff.count() == 2, timeout=5000)
    sign_in(qtbot, c, staff_accounts[0].id, "385172")
    qtbot.waitUntil(lambda: c.current == "queue", timeout=5000)
    for page in c.PAGES:
        c.show_page(page)
        qtbot.wait(100)
        for lang in ("en", "vi"):
            c.set_language(lang)
    assert MISSING == {"vi": set(), "en": set()}
    # And the lookups really go through the compiled catalogue.
    assert T("vi", "Welcome") == "Xin chào" and T("en", "Other language") == "Tiếng Việt"
