"""Transport: 61xx response chaining and 6Cxx wrong-length retries, against a scripted card."""

from __future__ import annotations

import pytest

from drivers.chip.apdu import Command, Response, decode_command
from drivers.chip.errors import ProtocolError
from drivers.chip.reader import Transport


class Scripted:
    def __init__(self, answers):
        self.answers, self.sent = list(answers), []

    def transmit(self, apdu: bytes) -> bytes:
        self.sent.append(apdu)
        return self.answers.pop(0)

    def close(self):
        pass


def test_6cxx_resends_with_the_length_the_card_gives():
    card = Scripted([bytes.fromhex("6C05"), b"hello" + b"\x90\x00"])
    r = Transport(card).send(Command(0x00, 0xB0, 0, 0, le=0x10))
    assert r == Response(b"hello", 0x9000)
    assert decode_command(card.sent[1]).le == 5


def test_61xx_is_followed_by_get_response_and_joined():
    card = Scripted([b"ab\x61\x03", b"cde\x61\x00", b"f" * 256 + b"\x90\x00"])
    r = Transport(card).send(Command(0x00, 0xB0, 0, 0, le=0))
    assert r.data == b"abcde" + b"f" * 256 and r.sw == 0x9000
    assert card.sent[1] == bytes.fromhex("00C0000003") and card.sent[2] == bytes.fromhex("00C0000000")


def test_endless_chaining_is_a_protocol_error():
    card = Scripted([b"x\x61\x01"] * 100)
    with pytest.raises(ProtocolError):
        Transport(card).send(Command(0x00, 0xB0, 0, 0, le=0))


def test_extended_length_encoding_round_trip():
    c = Command(0x0C, 0xB0, 0x81, 0x00, b"\x97\x02\x10\x00", le=65536, extended=True)
    raw = c.encode()
    assert raw[4:7] == b"\x00\x00\x04" and raw[-2:] == b"\x00\x00"
    back = decode_command(raw)
    assert (back.data, back.le, back.extended) == (c.data, 65536, True)
