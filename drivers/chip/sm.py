"""Secure messaging (ICAO 9303-11 §9.8) for 3DES (BAC) and AES (PACE, CA).

`protect()` turns a plain command into a protected one; `unprotect()` checks
the response MAC before it looks at anything else and returns the plain
response. The send sequence counter is incremented before each command and
each response. The card side (emulator) uses the same object with
`unprotect_command()` / `protect_response()`.
"""

from __future__ import annotations

from drivers.chip import crypto, tlv
from drivers.chip.apdu import Command, Response
from drivers.chip.errors import ParseError, SecureMessagingError


class SecureMessaging:
    def __init__(self, ks_enc: bytes, ks_mac: bytes, ssc: bytes | int = 0, cipher: str = "aes"):
        self.cipher = cipher
        self.block = 8 if cipher == "3des" else 16
        self.ks_enc, self.ks_mac = ks_enc, ks_mac
        self.ssc = int.from_bytes(ssc, "big") if isinstance(ssc, bytes) else ssc

    # -- primitives ---------------------------------------------------------
    def ssc_bytes(self) -> bytes:
        return self.ssc.to_bytes(self.block, "big")

    def _iv(self) -> bytes:
        if self.cipher == "3des":
            return bytes(8)
        return crypto.aes_ecb(self.ks_enc, self.ssc_bytes())

    def encrypt(self, data: bytes) -> bytes:
        padded = crypto.pad(data, self.block)
        if self.cipher == "3des":
            return crypto.des3_encrypt(self.ks_enc, padded)
        return crypto.aes_encrypt(self.ks_enc, padded, self._iv())

    def decrypt(self, data: bytes) -> bytes:
        if not data or len(data) % self.block:
            raise SecureMessagingError(f"cryptogram of {len(data)} bytes is not whole blocks")
        if self.cipher == "3des":
            plain = crypto.des3_decrypt(self.ks_enc, data)
        else:
            plain = crypto.aes_decrypt(self.ks_enc, data, self._iv())
        return crypto.unpad(plain)

    def mac(self, data: bytes) -> bytes:
        """MAC over SSC ‖ data (data already padded where the standard says so), padded as a whole."""
        n = crypto.pad(self.ssc_bytes() + data, self.block)
        if self.cipher == "3des":
            return crypto.retail_mac(self.ks_mac, n)
        return crypto.aes_cmac(self.ks_mac, n)

    # -- terminal side ------------------------------------------------------
    def protect(self, cmd: Command) -> Command:
        self.ssc += 1
        header = bytes([cmd.cla | 0x0C, cmd.ins, cmd.p1, cmd.p2])
        dos = b""
        if cmd.data:
            tag = 0x85 if cmd.ins & 1 else 0x87
            dos += tlv.tlv(tag, (b"" if tag == 0x85 else b"\x01") + self.encrypt(cmd.data))
        ext = cmd.extended or (cmd.le is not None and cmd.le > 256)
        if cmd.le is not None:
            if ext:
                dos += tlv.tlv(0x97, (cmd.le % 65536).to_bytes(2, "big"))
            else:
                dos += tlv.tlv(0x97, bytes([cmd.le % 256]))
        cc = self.mac(crypto.pad(header, self.block) + dos)
        dos += tlv.tlv(0x8E, cc)
        ext = ext or len(dos) > 255
        return Command(header[0], cmd.ins, cmd.p1, cmd.p2, dos, 65536 if ext else 256, ext)

    def unprotect(self, resp: Response) -> Response:
        self.ssc += 1
        try:
            objs = tlv.parse(resp.data)
        except ParseError as e:
            raise SecureMessagingError(f"protected response: {e}") from None
        if not objs or objs[-1][0] != 0x8E:
            raise SecureMessagingError(f"response {resp.sw:04X} is not protected")
        macced = b"".join(tlv.tlv(t, v) for t, v in objs[:-1] if t in (0x85, 0x87, 0x99))
        if self.mac(macced) != objs[-1][1]:
            raise SecureMessagingError("response MAC does not verify")
        data, sw = b"", None
        for t, v in objs[:-1]:
            if t == 0x87:
                if not v or v[0] != 1:
                    raise SecureMessagingError("DO87 without padding indicator 01")
                data = self.decrypt(v[1:])
            elif t == 0x85:
                data = self.decrypt(v)
            elif t == 0x99:
                if len(v) != 2:
                    raise SecureMessagingError("DO99 is not 2 bytes")
                sw = int.from_bytes(v, "big")
        if sw is None:
            raise SecureMessagingError("protected response has no status (DO99)")
        return Response(data, sw)

    # -- card side ----------------------------------------------------------
    def unprotect_command(self, cmd: Command) -> Command:
        self.ssc += 1
        if cmd.cla & 0x0C != 0x0C:
            raise SecureMessagingError("command is not protected")
        objs = tlv.parse(cmd.data)
        if not objs or objs[-1][0] != 0x8E:
            raise SecureMessagingError("command has no MAC")
        header = bytes([cmd.cla, cmd.ins, cmd.p1, cmd.p2])
        macced = b"".join(tlv.tlv(t, v) for t, v in objs[:-1])
        if self.mac(crypto.pad(header, self.block) + macced) != objs[-1][1]:
            raise SecureMessagingError("command MAC does not verify")
        data, le = b"", None
        ext = cmd.extended
        for t, v in objs[:-1]:
            if t == 0x87:
                data = self.decrypt(v[1:])
            elif t == 0x85:
                data = self.decrypt(v)
            elif t == 0x97:
                le = int.from_bytes(v, "big") or (65536 if len(v) == 2 else 256)
                ext = ext or len(v) == 2
        return Command(cmd.cla & ~0x0C & 0xFF, cmd.ins, cmd.p1, cmd.p2, data, le, ext)

    def protect_response(self, resp: Response) -> Response:
        self.ssc += 1
        dos = b""
        if resp.data:
            dos += tlv.tlv(0x87, b"\x01" + self.encrypt(resp.data))
        dos += tlv.tlv(0x99, resp.sw.to_bytes(2, "big"))
        return Response(dos + tlv.tlv(0x8E, self.mac(dos)), 0x9000)
