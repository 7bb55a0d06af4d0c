"""Hostile or torn card sessions: the reader only ever raises the library's own typed errors."""

from __future__ import annotations

from datetime import date

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
    reader = ChipReader(Mutating(InProcessConnection(card), at, mutation), extended=ext, today=date(2026, 11, 26))
    try:
        r = reader.read_identity(Credentials(id_number="001085012345"), trust=[pki.csca_cert])
    except ChipError:
        return
    # a mutation that did not stop the read must not have produced a silently "verified" different story
    assert r.passive_authentication in ("verified", "failed", "no_trust_anchor")


@FAST
@given(at=st.integers(1, 22), mutation=MUTATIONS)
def test_mutated_bac_session_raises_only_chip_errors(pki, at, mutation):
    card = CccdCard(profile("bac-only-lifetime"), pki)
    reader = ChipReader(Mutating(InProcessConnection(card), at, mutation), extended="no", today=date(2026, 11, 26))
    try:
        reader.read_identity(Credentials(id_number="040058001234", date_of_birth=date(1958, 7, 2)),
                             trust=[pki.csca_cert])
    except ChipError:
        pass


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
