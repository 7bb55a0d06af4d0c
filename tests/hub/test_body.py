"""The device API's JSON reader (hub/kiosk_hub/ingest/body.py), property-based: it accepts exactly the
bounded JSON the contract allows and refuses anything else with Malformed, never another exception."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings, strategies as st

from kiosk_hub.ingest.body import INT_MAX, INT_MIN, MAX_DEPTH, Malformed, parse

scalars = (st.none() | st.booleans() | st.integers(INT_MIN, INT_MAX)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text())


def nested(depth: int):
    if depth == 0:
        return scalars
    inner = nested(depth - 1)
    return scalars | st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)


@given(nested(6))
@settings(max_examples=300)
def test_json_within_bounds_round_trips(value):
    raw = json.dumps(value, ensure_ascii=False).encode("utf-8")
    assert parse(raw) == value
    assert parse(json.dumps(value).encode()) == value   # \\u escapes of valid text too


@given(st.binary(max_size=300))
@settings(max_examples=500)
def test_arbitrary_bytes_parse_or_are_malformed(raw):
    try:
        parse(raw)
    except Malformed as e:
        assert str(e)


@given(st.text(max_size=200))
@settings(max_examples=500)
def test_arbitrary_text_parses_or_is_malformed(text):
    try:
        parse(text.encode("utf-8", "surrogatepass"))
    except Malformed:
        pass


@given(st.integers(MAX_DEPTH + 1, 5000), st.sampled_from(["[", '{"a":']))
def test_nesting_deeper_than_the_limit_is_refused(depth, opener):
    closer = "]" if opener == "[" else "}"
    with pytest.raises(Malformed, match="nesting"):
        parse((opener * depth + "1" + closer * depth).encode())


def test_nesting_at_the_limit_is_accepted():
    assert parse(("[" * MAX_DEPTH + "]" * MAX_DEPTH).encode()) is not None
    assert parse(b'"' + b"[" * 100 + b'"') == "[" * 100   # brackets inside strings do not count


@given(st.one_of(st.integers(max_value=INT_MIN - 1), st.integers(min_value=INT_MAX + 1)))
def test_integers_outside_64_bits_are_refused(n):
    with pytest.raises(Malformed, match="64-bit"):
        parse(json.dumps({"visit_id": n}).encode())


@given(st.integers(0xD800, 0xDFFF))
def test_lone_surrogates_are_refused(cp):
    with pytest.raises(Malformed, match="surrogate"):
        parse(f'{{"full_name": "ab\\u{cp:04x}"}}'.encode())
    with pytest.raises(Malformed, match="surrogate"):
        parse(f'{{"\\u{cp:04x}": 1}}'.encode())


@pytest.mark.parametrize("raw", [b"NaN", b"[Infinity]", b'{"a": -Infinity}', b"[1e999]", b"[-1e999]"])
def test_nan_and_infinity_are_refused(raw):
    with pytest.raises(Malformed):
        parse(raw)


def test_pairs_of_surrogates_and_duplicates():
    assert parse(b'"\\ud83d\\ude00"') == "\U0001F600"
    with pytest.raises(Malformed, match="repeats"):
        parse(b'{"a": 1, "a": 1}')
    with pytest.raises(Malformed, match="byte-order"):
        parse("\ufeff{}".encode())
