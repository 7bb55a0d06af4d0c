"""The architecture's rules (issue 16, docs/architecture.md), checked on the tree as committed.

The import contracts themselves are import-linter's (pyproject.toml, `lint-imports`); this file checks what an
import graph cannot see — SQL text, file sizes, deferred imports — and that the docs name paths that exist.
"""

from __future__ import annotations

import ast
import re
import tomllib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("kiosk", "ui", "sync", "drivers")
SQL_CALL = re.compile(r"\.(execute|executemany|executescript)\(|^\s*(import sqlite3|from sqlite3 |import sqlite_utils)",
                      re.M)


def product_files(*packages: str) -> list[Path]:
    return sorted(p for pkg in packages for p in (ROOT / pkg).rglob("*.py"))


def rel(p: Path) -> str:
    return p.relative_to(ROOT).as_posix()


def test_no_sql_outside_the_store():
    offenders = [f"{rel(p)}:{text.count(chr(10), 0, m.start()) + 1}"
                 for p in product_files(*PRODUCT) if not rel(p).startswith("kiosk/store/")
                 for text in [p.read_text(encoding="utf-8")] for m in SQL_CALL.finditer(text)]
    assert offenders == [], "SQL belongs in kiosk/store/: " + ", ".join(offenders)


def test_no_ui_file_over_450_lines():
    long = {rel(p): n for p in product_files("ui") if (n := len(p.read_text(encoding="utf-8").splitlines())) > 450}
    assert long == {}


def test_the_data_key_registry_is_gone():
    text = (ROOT / "kiosk/privacy/datakey.py").read_text(encoding="utf-8")
    assert "_KEYS" not in text
    assert not re.search(r"^def (register|install|key_for)\(", text, re.M)


def deferred_imports(path: Path) -> list[int]:
    """Line numbers of imports inside functions with no comment on that line or the one above saying why."""
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    found = []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for inner in ast.walk(node):
                if isinstance(inner, (ast.Import, ast.ImportFrom)):
                    if not _explained(lines, inner.lineno - 1):
                        found.append(inner.lineno)
    return sorted(set(found))


def _explained(lines: list[str], i: int) -> bool:
    """A comment on the import's line, on another import of the same block, or on the line above the block."""
    while True:
        if "#" in lines[i]:
            return True
        if i == 0:
            return False
        above = lines[i - 1].strip()
        if above.startswith("#"):
            return True
        if not above.startswith(("import ", "from ")):
            return False
        i -= 1


def test_deferred_imports_say_why():
    offenders = [f"{rel(p)}:{n}" for p in product_files(*PRODUCT) for n in deferred_imports(p)]
    assert offenders == [], "an import inside a function needs a comment saying why: " + ", ".join(offenders)


@pytest.mark.skipif(shutil.which("lint-imports", path=str(Path(sys.executable).parent)) is None,
                    reason="import-linter is a dev dependency: run `make setup`")
def test_import_contracts_hold():
    tool = Path(sys.executable).parent / "lint-imports"
    run = subprocess.run([str(tool), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]


def backticked_paths(text: str) -> set[str]:
    return {m for m in re.findall(r"`([\w./-]+/[\w./-]*)`", text)
            if m.split("/")[0] in ("kiosk", "ui", "sync", "drivers", "hub", "deploy", "tests", "bench", "docs")}


@pytest.mark.parametrize("doc", ["README.md", "docs/architecture.md"])
def test_docs_name_paths_that_exist(doc):
    missing = sorted(p for p in backticked_paths((ROOT / doc).read_text(encoding="utf-8"))
                     if not (ROOT / p.rstrip("/")).exists() and not (ROOT / (p + ".py")).exists())
    assert missing == [], f"{doc} names paths that are not in the tree: {missing}"


def test_readme_where_things_are_covers_every_package():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Where things are", 1)[1].split("\n## ", 1)[0]
    packages = {rel(p.parent) + "/" for p in (ROOT / "kiosk").glob("*/__init__.py")}
    packages |= {rel(p.parent) + "/" for p in (ROOT / "ui").glob("*/__init__.py") if p.parent.name != "i18n"}
    packages |= {"drivers/", "sync/", "hub/", "deploy/", "tests/", "bench/", "docs/"}
    absent = sorted(p for p in packages if f"`{p}" not in section)
    assert absent == [], f"README's 'Where things are' does not mention {absent}"


def test_the_ui_contract_names_every_store_writer():
    """A new store module is a writer until someone decides otherwise: the UI contract must forbid it by name."""
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]
    ui = next(c for c in contracts if c["source_modules"] == ["ui"])
    store = {f"kiosk.store.{p.stem}" for p in (ROOT / "kiosk/store").glob("*.py") if p.stem not in ("__init__", "views")}
    assert store - set(ui["forbidden_modules"]) == set()
