"""Hostile or torn card sessions: the reader only ever raises the library's own typed errors, and never calls
data "verified" (passive authentication) that is not the data the card's Document Security Object signs."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from drivers.cccd_emulator import CccdCard, InProcessConnection
from drivers.chip import lds, tlv
from drivers.chip.errors import ChipError, ParseError
from drivers.chip.reader import ChipReader, Credentials
from tests.chip.conftest import profile

FAST = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

MUTATIONS = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10_000), st.integers(1, 255)),
    st.tuples(st.just("truncate"), st.integers(0, 10_000), st.just(0)),
    st.tuples(st.just("extend"), st.binary(min_size=1, max_size=40), st.just(0)),
    st.tuples(st.just("replace"), st.binary(max_size=300), st.just(0)),
    st.tuples(st.just("status"), st.sampled_from([0x6700, 0x6C10, 0x6100, 0x61FF, 0x6282, 0x6A82, 0x6982, 0x6988,
                                                  0x9000, 0x6300, 0x6B00, 0x6C00]), st.just(0)),
)


def mutate(raw: bytes, m) -> bytes:
    kind, a, b = m
    if kind == "flip" and raw:
        i = a % len(raw)
        return raw[:i] + bytes([raw[i] ^ b]) + raw[i + 1:]
    if kind == "truncate":
        return raw[:a % (len(raw) + 1)]
    if kind == "extend":
        return raw[:-2] + a + raw[-2:]
    if kind == "replace":
        return a
    if kind == "status":
        return raw[:-2] + a.to_bytes(2, "big")
    return raw


PACE = ("pace-card", Credentials(id_number="001085012345"), "yes")
BAC = ("bac-only-lifetime", Credentials(id_number="040058001234", date_of_birth=date(1958, 7, 2)), "no")


def read(pki, card_or_connection, creds, ext="no"):
    conn = card_or_connection if not isinstance(card_or_connection, CccdCard) else InProcessConnection(card_or_connection)
    return ChipReader(conn, extended=ext, today=date(2026, 11, 26)).read_identity(creds, trust=[pki.csca_cert])


def story(r) -> tuple:
    """What the read says about the person and the document: the MRZ (DG1) and DG13, as parsed."""
    return r.mrz, r.dg13


_GENUINE: dict = {}


def genuine(pki, which) -> tuple:
    """The story an untouched card of this profile tells (its data is what its SOD signs)."""
    name, creds, _ = which
    if (id(pki), name) not in _GENUINE:
        r = read(pki, CccdCard(profile(name), pki), creds)
        assert r.passive_authentication == "verified", r.passive_authentication_reason
        _GENUINE[(id(pki), name)] = story(r)
    return _GENUINE[(id(pki), name)]


@pytest.mark.parametrize("which", [PACE, BAC], ids=["pace", "bac"])
def test_untouched_cards_verify(pki, which):
    # the other side of every property below: without this, "never verified" would pass on a reader that
    # verifies nothing
    name, creds, ext = which
    r = read(pki, CccdCard(profile(name), pki), creds, ext)
    assert (r.passive_authentication, r.passive_authentication_reason) == ("verified", "")
    assert story(r) == genuine(pki, which)


def test_forged_name_in_dg13_is_read_but_never_verified(pki):
    card = CccdCard(profile("pace-card"), pki)
    real = "Nguyễn Thị Thu Hương".encode()
    assert real in card.files["DG13"]
    card.files["DG13"] = card.files["DG13"].replace(real, "Nguyễn Thị Thy Hương".encode())  # same length, valid
    r = read(pki, card, PACE[1])
    assert r.dg13["full_name"] == "Nguyễn Thị Thy Hương"  # the forged data gets through parsing...
    assert r.passive_authentication == "failed" and "chip_failed" in r.warnings  # ...and is never "verified"


def forge(raw: bytes, at: int, delta: int, textual: bool) -> bytes:
    """`raw` with one byte changed inside its TLV. `textual`: an ASCII letter or digit becomes another of its
    kind, so DG1 (MRZ) and DG13 (UTF-8 strings) still parse and the read reaches passive authentication."""
    _, n, vpos = tlv.read_header(raw)  # the card's own files are well formed
    end = min(len(raw), vpos + n)
    if textual:
        spots = [i for i in range(vpos, end) if chr(raw[i]).isascii() and chr(raw[i]).isalnum()]
        if spots:
            i = spots[at % len(spots)]
            c = chr(raw[i])
            base, size = (ord("0"), 10) if c.isdigit() else (ord("A") if c.isupper() else ord("a"), 26)
            new = base + (ord(c) - base + 1 + delta % (size - 1)) % size
            return raw[:i] + bytes([new]) + raw[i + 1:]
    i = at % end
    return raw[:i] + bytes([raw[i] ^ (1 + delta % 255)]) + raw[i + 1:]


@FAST
@given(name=st.sampled_from(["DG1", "DG13", "DG14", "DG15", "SOD"]), at=st.integers(0, 100_000),
       delta=st.integers(0, 1000), textual=st.booleans())
def test_forged_dg_content_or_sod_is_never_verified(pki, name, at, delta, textual):
    """Data groups changed after signing never pass passive authentication; a changed SOD can pass only when
    the data still is what the genuine SOD signs."""
    card = CccdCard(profile("pace-card"), pki)
    original = card.files[name]
    card.files[name] = forge(original, at, delta, textual and name in ("DG1", "DG13"))
    assert card.files[name] != original
    try:
        r = read(pki, card, PACE[1])
    except ChipError:
        return
    if name == "SOD":
        assert r.passive_authentication != "verified" or story(r) == genuine(pki, PACE)
    else:
        assert r.passive_authentication != "verified", (name, r.passive_authentication_reason)


class Mutating:
    def __init__(self, inner, at: int, mutation):
        self.inner, self.at, self.mutation, self.n = inner, at, mutation, 0

    def transmit(self, apdu: bytes) -> bytes:
        out = self.inner.transmit(apdu)
        self.n += 1
        return mutate(out, self.mutation) if self.n == self.at else out

    def close(self):
        pass


@FAST
@given(at=st.integers(1, 26), mutation=MUTATIONS, ext=st.sampled_from(["no", "yes"]))
def test_mutated_card_responses_raise_only_chip_errors(pki, at, mutation, ext):
    card = CccdCard(profile("pace-card"), pki)
    try:
        r = read(pki, Mutating(InProcessConnection(card), at, mutation), PACE[1], ext)
    except ChipError:
        return
    # a mutation that did not stop the read must not have produced a silently "verified" different story
    assert r.passive_authentication != "verified" or story(r) == genuine(pki, PACE)


@FAST
@given(at=st.integers(1, 22), mutation=MUTATIONS)
def test_mutated_bac_session_raises_only_chip_errors(pki, at, mutation):
    card = CccdCard(profile("bac-only-lifetime"), pki)
    try:
        r = read(pki, Mutating(InProcessConnection(card), at, mutation), BAC[1])
    except ChipError:
        return
    assert r.passive_authentication != "verified" or story(r) == genuine(pki, BAC)


@FAST
@given(name=st.sampled_from(["COM", "DG1", "DG13", "DG14", "DG15", "SOD", "CardAccess"]), mutation=MUTATIONS)
def test_hostile_file_contents_behind_valid_secure_messaging(pki, name, mutation):
    """A chip that speaks perfect secure messaging but serves garbage files (bad TLV, absurd lengths)."""
    card = CccdCard(profile("pace-card"), pki)
    original = card.files[name]
    card.files[name] = mutate(original + b"\x90\x00", mutation)[:-2] if mutation[0] != "replace" \
        else mutation[1]
    reader = ChipReader(InProcessConnection(card), extended="no", today=date(2026, 11, 26))
    try:
        r = reader.read_identity(Credentials(id_number="001085012345"), trust=[pki.csca_cert])
    except ChipError:
        return
    try:
        _, n, vpos = tlv.read_header(card.files[name])
        served = card.files[name][:vpos + n]  # what a reader reads: the TLV, not trailing bytes
    except ParseError:
        served = card.files[name]
    if name not in ("COM", "CardAccess", "SOD") and served != original:
        assert r.passive_authentication == "failed"
    assert r.passive_authentication != "verified" or story(r) == genuine(pki, PACE)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=400))
def test_parsers_raise_only_parse_error(data):
    for parse in (lds.parse_dg13, lds.parse_dg1, lds.parse_sod, lds.parse_dg14, lds.com_tags, lds.pace_infos,
                  lds.photo_of, lds.parse_dg15, tlv.parse):
        try:
            parse(data)
        except ParseError:
            pass


@settings(max_examples=300, deadline=None)
@given(fields=st.lists(st.tuples(st.integers(0, 300), st.sampled_from([0x0C, 0x13, 0x30, 0x02, 0x04]),
                                 st.binary(max_size=30)), max_size=20))
def test_dg13_structure_fuzz(fields):
    items = b"".join(tlv.tlv(0x30, tlv.tlv(0x02, n.to_bytes(2, "big")) + tlv.tlv(t, v)) for n, t, v in fields)
    data = tlv.tlv(0x6D, tlv.tlv(0x30, tlv.tlv(0x02, b"\x01") + tlv.tlv(0x06, bytes.fromhex("28D316010008"))
                                 + tlv.tlv(0x31, items)))
    try:
        out = lds.parse_dg13(data)
    except ParseError:
        return
    assert set(out) >= set(lds.DG13_OUTPUT)
