"""argparse types for the numeric options of `kiosk-hub`: ASCII digits only.

int() and float() take any Unicode decimal digit ('١٢' and '１２' are 12) and underscores ('1_0' is 10), and
float() also takes 'nan', 'inf' and exponents. An option on an operator's command line must mean what it
shows, so these accept an optional sign, ASCII digits and (ascii_float) one decimal point, nothing else.
The hub's own copy: it imports nothing from the kiosk.
"""

from __future__ import annotations

import argparse
import re

_INT = re.compile(r"[-+]?[0-9]+", re.ASCII)
_FLOAT = re.compile(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)", re.ASCII)


def ascii_int(text: str) -> int:
    if not _INT.fullmatch(text):
        raise argparse.ArgumentTypeError(f"expected a whole number in ASCII digits (0-9), got {text!r}")
    return int(text)


def ascii_float(text: str) -> float:
    if not _FLOAT.fullmatch(text):
        raise argparse.ArgumentTypeError(f"expected a number in ASCII digits (0-9, one '.'), got {text!r}")
    return float(text)
