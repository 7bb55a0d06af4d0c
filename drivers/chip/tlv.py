"""BER-TLV in the small: enough for ICAO files and secure-messaging objects.

Every malformed input raises ParseError (never IndexError/ValueError), so
hostile card data stays inside the library's error types.
"""

from __future__ import annotations

from drivers.chip.errors import ParseError


def encode_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    if n < 0x100:
        return bytes([0x81, n])
    if n < 0x10000:
        return bytes([0x82]) + n.to_bytes(2, "big")
    return bytes([0x83]) + n.to_bytes(3, "big")


def tlv(tag: int, value: bytes) -> bytes:
    t = tag.to_bytes((tag.bit_length() + 7) // 8 or 1, "big")
    return t + encode_length(len(value)) + value


def read_header(data: bytes, pos: int = 0) -> tuple[int, int, int]:
    """(tag, length, offset of the value) of the TLV at `pos`; the value may extend past `data`."""
    try:
        tag = data[pos]
        pos += 1
        if tag & 0x1F == 0x1F:
            while True:
                b = data[pos]
                pos += 1
                tag = (tag << 8) | b
                if not b & 0x80:
                    break
                if tag > 0xFFFFFF:
                    raise ParseError("TLV tag too long")
        n = data[pos]
        pos += 1
        if n & 0x80:
            k = n & 0x7F
            if k == 0 or k > 3:
                raise ParseError(f"TLV length uses {k} bytes")
            if pos + k > len(data):
                raise ParseError("TLV length truncated")
            n = int.from_bytes(data[pos:pos + k], "big")
            pos += k
    except IndexError:
        raise ParseError("TLV header truncated") from None
    return tag, n, pos


def parse(data: bytes) -> list[tuple[int, bytes]]:
    """All top-level TLVs of `data`, which must be exactly covered."""
    out, pos = [], 0
    while pos < len(data):
        tag, n, vpos = read_header(data, pos)
        if vpos + n > len(data):
            raise ParseError(f"TLV {tag:X} says {n} bytes, only {len(data) - vpos} present")
        out.append((tag, data[vpos:vpos + n]))
        pos = vpos + n
    return out


def find(data: bytes, tag: int) -> bytes | None:
    for t, v in parse(data):
        if t == tag:
            return v
    return None


def unwrap(data: bytes, tag: int) -> bytes:
    """The value of the single TLV `tag` that makes up `data` (trailing bytes are an error)."""
    t, n, vpos = read_header(data)
    if t != tag:
        raise ParseError(f"expected tag {tag:X}, found {t:X}")
    if vpos + n != len(data):
        raise ParseError(f"TLV {tag:X} says {n} bytes, {len(data) - vpos} present")
    return data[vpos:]
