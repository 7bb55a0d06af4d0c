"""The device API's JSON reader: strict, bounded, and never the reason a worker dies.

Refused (`Malformed`, answered 400): bytes that are not UTF-8, text that is not JSON, nesting deeper
than MAX_DEPTH, a lone surrogate (`"\\ud800"`), an integer outside the signed 64-bit range, NaN or
Infinity (and floats that overflow to them), duplicate keys in one object.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 32
INT_MIN, INT_MAX = -(2 ** 63), 2 ** 63 - 1
# Python refuses to parse integers over 4300 digits anyway; a 64-bit integer has at most 20 characters.
_MAX_INT_CHARS = 20


class Malformed(ValueError):
    """The body is not acceptable JSON; the message says why, without quoting the body."""


def _int(text: str) -> int:
    if len(text.lstrip("-")) > _MAX_INT_CHARS:
        raise Malformed("an integer is outside the 64-bit range")
    v = int(text)
    if not INT_MIN <= v <= INT_MAX:
        raise Malformed("an integer is outside the 64-bit range")
    return v


def _float(text: str) -> float:
    v = float(text)
    if v != v or v in (float("inf"), float("-inf")):
        raise Malformed("a number overflows to infinity")
    return v


def _constant(name: str) -> Any:
    raise Malformed(f"{name} is not JSON")


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    d = dict(pairs)
    if len(d) != len(pairs):
        raise Malformed("an object repeats a key")
    return d


def _has_lone_surrogate(s: str) -> bool:
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _check_tree(value: Any, strings: bool) -> None:
    """Depth (and, with `strings`, lone surrogates), in one walk without recursion over the containers
    (the C parser itself stops near 1000 levels)."""
    if strings and isinstance(value, str) and _has_lone_surrogate(value):
        raise Malformed("a string holds a lone surrogate (not valid Unicode)")
    stack = [(value, 1)] if isinstance(value, (dict, list)) else []
    while stack:
        v, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise Malformed(f"nesting deeper than {MAX_DEPTH}")
        if isinstance(v, dict):
            if strings and any(_has_lone_surrogate(k) for k in v):
                raise Malformed("a key holds a lone surrogate (not valid Unicode)")
            children = v.values()
        else:
            children = v
        for x in children:
            if isinstance(x, (dict, list)):
                stack.append((x, depth + 1))
            elif strings and isinstance(x, str) and _has_lone_surrogate(x):
                raise Malformed("a string holds a lone surrogate (not valid Unicode)")


def parse(raw: bytes) -> Any:
    """Parse a request body; raises Malformed with a reason fit for the 400 answer."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Malformed("the body is not UTF-8") from None
    if text.startswith("\ufeff"):
        raise Malformed("the body starts with a byte-order mark")
    try:
        value = json.loads(text, parse_int=_int, parse_float=_float, parse_constant=_constant,
                           object_pairs_hook=_object)
    except Malformed:
        raise
    except RecursionError:
        raise Malformed(f"nesting deeper than {MAX_DEPTH}") from None
    except ValueError as e:
        pos = getattr(e, "pos", None)
        raise Malformed("the body is not JSON" + (f" (at character {pos})" if pos is not None else "")) from None
    # Strict UTF-8 decoding refuses encoded surrogates, so a lone one can only come from a \u escape
    # of D800..DFFF: without "\ud" in the body (either case) no string needs checking.
    _check_tree(value, strings=b"\\ud" in raw or b"\\uD" in raw)
    return value
