"""Numbers on the command line are ASCII digits: int() alone would take ٣ (Arabic-Indic) or ３ (full-width)."""

from __future__ import annotations

import argparse
import subprocess

import pytest
from hypothesis import given, strategies as st

from kiosk.cli import ascii_float, ascii_int
from tests.conftest import kiosk_cmd


@pytest.mark.parametrize("args", [("audit", "list", "--since", "٣"), ("audit", "list", "--limit", "५"),
                                  ("stay", "receipt", "٤", "X"), ("sync", "once", "--batch", "١٠")])
def test_other_scripts_digits_exit_2(tmp_path, args):
    r = subprocess.run(kiosk_cmd("--data-dir", str(tmp_path / "d"), *args), capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 2 and "ASCII digits" in r.stderr, (r.returncode, r.stderr)


def test_full_width_digits_are_what_the_person_meant(tmp_path):
    r = subprocess.run(kiosk_cmd("--data-dir", str(tmp_path / "d"), "audit", "list", "--since", "３", "--json"),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr


@given(st.text(max_size=12))
def test_ascii_int_takes_only_ascii_digits(text):
    try:
        value = ascii_int(text)
    except argparse.ArgumentTypeError:
        return
    import unicodedata
    t = unicodedata.normalize("NFKC", text).strip()
    assert t.lstrip("+-").isascii() and t.lstrip("+-").isdigit() and value == int(t)


@given(st.text(max_size=12))
def test_ascii_float_refuses_nan_inf_and_other_digits(text):
    try:
        value = ascii_float(text)
    except argparse.ArgumentTypeError:
        return
    assert value == value and abs(value) != float("inf")
    import unicodedata
    assert all(c.isascii() for c in unicodedata.normalize("NFKC", text).strip())
