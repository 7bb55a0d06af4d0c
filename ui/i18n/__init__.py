"""Translations of the touch UI: `vi.ts` / `en.ts` (Qt Linguist sources) compiled to `.qm`.

Source strings are English, marked with `tr("...")` in ui/*.py.

    python -m ui.i18n update   # pyside6-lupdate: add new strings to the .ts files (unfinished)
    python -m ui.i18n build    # pyside6-lrelease: compile .ts → .qm
    python -m ui.i18n check    # list strings without a finished translation; exit 1 if any

Translate `vi.ts` with Qt Linguist (`pyside6-linguist ui/i18n/vi.ts`) or any
editor. `en.ts` is the source text, except where English needs other words.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).parent
UI_DIR = HERE.parent
LANGS = ("vi", "en")
# English words that differ from the source text (the language button names the *other* language).
EN_OVERRIDES = {"Other language": "Tiếng Việt"}


def tool(name: str) -> str:
    """pyside6-lupdate / pyside6-lrelease, from the venv that runs us or from PATH."""
    here = Path(sys.executable).parent / f"pyside6-{name}"
    if here.exists():
        return str(here)
    found = shutil.which(f"pyside6-{name}")
    if not found:
        raise SystemExit(f"pyside6-{name} not found (it ships with PySide6-Essentials)")
    return found


def sources() -> list[str]:
    return sorted(str(p) for p in UI_DIR.rglob("*.py") if "i18n" not in p.parts)


def update() -> None:
    for lang in LANGS:
        ts = HERE / f"{lang}.ts"
        subprocess.run([tool("lupdate"), *sources(), "-no-obsolete", "-locations", "none",
                        "-target-language", {"vi": "vi_VN", "en": "en_US"}[lang], "-ts", str(ts)], check=True,
                       stdout=subprocess.DEVNULL)
    fill_english(HERE / "en.ts")


def fill_english(ts: Path) -> None:
    tree = ET.parse(ts)
    for msg in tree.iter("message"):
        tr_el = msg.find("translation")
        if tr_el.get("type") == "unfinished" or not (tr_el.text or ""):
            tr_el.text = EN_OVERRIDES.get(msg.findtext("source"), msg.findtext("source"))
            tr_el.attrib.pop("type", None)
    write(tree, ts)


def write(tree: ET.ElementTree, ts: Path) -> None:
    ET.indent(tree, "    ")
    body = ET.tostring(tree.getroot(), encoding="unicode")
    ts.write_text('<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE TS>\n' + body + "\n", encoding="utf-8")


def build(out_dir: Path = HERE) -> list[Path]:
    out = []
    for lang in LANGS:
        qm = out_dir / f"{lang}.qm"
        subprocess.run([tool("lrelease"), str(HERE / f"{lang}.ts"), "-qm", str(qm)], check=True,
                       stdout=subprocess.DEVNULL)
        out.append(qm)
    return out


def unfinished(lang: str) -> list[str]:
    tree = ET.parse(HERE / f"{lang}.ts")
    return [m.findtext("source") for m in tree.iter("message")
            if m.find("translation").get("type") in ("unfinished", "obsolete", "vanished")
            or not (m.findtext("translation") or "").strip()]


def messages(lang: str) -> dict[str, str]:
    tree = ET.parse(HERE / f"{lang}.ts")
    return {m.findtext("source"): m.findtext("translation") or "" for m in tree.iter("message")}
