"""ISO 7816-4 command and response APDUs, short and extended length."""

from __future__ import annotations

from dataclasses import dataclass

from drivers.chip.errors import ProtocolError

SW_OK = 0x9000
SW_END_OF_FILE = 0x6282  # fewer bytes than Le: the end of the file was reached


@dataclass(frozen=True)
class Command:
    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int | None = None  # None: no response data expected; 0 is "as much as possible" (256/65536)
    extended: bool = False

    def header(self) -> bytes:
        return bytes([self.cla, self.ins, self.p1, self.p2])

    def encode(self) -> bytes:
        ext = self.extended or len(self.data) > 255 or (self.le is not None and self.le > 256)
        out = self.header()
        if ext:
            if self.data:
                out += b"\x00" + len(self.data).to_bytes(2, "big") + self.data
            if self.le is not None:
                le = self.le if self.le < 65536 else 0
                out += (b"" if self.data else b"\x00") + le.to_bytes(2, "big")
        else:
            if self.data:
                out += bytes([len(self.data)]) + self.data
            if self.le is not None:
                out += bytes([self.le if self.le < 256 else 0])
        return out

    def with_le(self, le: int) -> "Command":
        return Command(self.cla, self.ins, self.p1, self.p2, self.data, le, self.extended)


@dataclass(frozen=True)
class Response:
    data: bytes
    sw: int

    @classmethod
    def decode(cls, raw: bytes) -> "Response":
        if len(raw) < 2:
            raise ProtocolError(f"response of {len(raw)} bytes has no status word")
        return cls(bytes(raw[:-2]), int.from_bytes(raw[-2:], "big"))

    def encode(self) -> bytes:
        return self.data + self.sw.to_bytes(2, "big")

    @property
    def ok(self) -> bool:
        return self.sw in (SW_OK, SW_END_OF_FILE)


def decode_command(raw: bytes) -> Command:
    """Parse a command APDU (the card side uses this). Raises ProtocolError on bad lengths."""
    if len(raw) < 4:
        raise ProtocolError("command shorter than its header")
    cla, ins, p1, p2 = raw[:4]
    body = raw[4:]
    if not body:
        return Command(cla, ins, p1, p2)
    if len(body) == 1:
        return Command(cla, ins, p1, p2, b"", body[0] or 256)
    if body[0] != 0:
        lc = body[0]
        if len(body) == 1 + lc:
            return Command(cla, ins, p1, p2, body[1:], None)
        if len(body) == 2 + lc:
            return Command(cla, ins, p1, p2, body[1:1 + lc], body[-1] or 256)
        raise ProtocolError("short APDU length mismatch")
    # extended
    if len(body) == 3:
        return Command(cla, ins, p1, p2, b"", int.from_bytes(body[1:3], "big") or 65536, True)
    lc = int.from_bytes(body[1:3], "big")
    if lc == 0:
        raise ProtocolError("extended Lc of 0")
    if len(body) == 3 + lc:
        return Command(cla, ins, p1, p2, body[3:], None, True)
    if len(body) == 5 + lc:
        return Command(cla, ins, p1, p2, body[3:3 + lc], int.from_bytes(body[-2:], "big") or 65536, True)
    raise ProtocolError("extended APDU length mismatch")
