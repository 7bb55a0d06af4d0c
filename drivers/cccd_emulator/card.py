"""The card side of the protocol: one command APDU in, one response APDU out."""

from __future__ import annotations

import hashlib
import logging
import os
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec as c_ec, utils

from drivers.chip import crypto, lds, pace, tlv
from drivers.chip.apdu import Command, Response, decode_command
from drivers.chip.ec import BY_NAME, Curve
from drivers.chip.errors import CardRemoved, ProtocolError
from drivers.chip.sm import SecureMessaging
from drivers.cccd_emulator import files as files_mod
from drivers.cccd_emulator.pki import TestPki
from drivers.cccd_emulator.profile import Profile

log = logging.getLogger(__name__)

AID = bytes.fromhex("A0000002471001")
SFI = {sfi: name for name, (sfi, _) in lds.FILES.items()}
FID = {fid: name for name, (_, fid) in lds.FILES.items()}


def _atr() -> bytes:
    # ISO 14443-4 card seen through a PC/SC contactless reader (PC/SC part 3 style ATR)
    hist = b"\x80\x01\x00\x00\x00\x00\x00\x00"
    body = bytes([0x88, 0x80, 0x01]) + hist
    tck = 0
    for b in body:
        tck ^= b
    return b"\x3b" + body + bytes([tck])


ATR = _atr()


class CardGone(Exception):
    """The emulated card left the field (profile `drop_after_commands`)."""


def sw(code: int, data: bytes = b"") -> Response:
    return Response(data, code)


class CccdCard:
    def __init__(self, profile: Profile, pki: TestPki | None = None):
        self.profile = profile
        self.pki = pki or TestPki.generate()
        built = files_mod.build(profile, self.pki)
        self.files, self.mrz_key = built.files, built.mrz_key
        self.ca_sk, self.aa_sk = built.ca_private, built.aa_private
        self.curve = Curve(BY_NAME["brainpoolP256r1"])
        self.commands = 0
        self.drops = 0
        self.atr = ATR
        self.reset()

    # -- session state ------------------------------------------------------
    def reset(self) -> None:
        self.sm: SecureMessaging | None = None
        self.app = False
        self.current: str | None = None
        self.pace_state: dict | None = None
        self.ca_oid: bytes | None = None
        self.bac_challenge: bytes | None = None
        self._next_sm: SecureMessaging | None = None

    def _drop_due(self) -> bool:
        n = self.profile.card.get("drop_after_commands")
        if not n:
            return False
        if self.drops and not self.profile.card.get("drop_repeat"):
            return False
        return self.commands > int(n)

    # -- entry point --------------------------------------------------------
    def process(self, apdu: bytes) -> bytes:
        self.commands += 1
        if self._drop_due():
            self.drops += 1
            self.commands = 0
            self.reset()
            raise CardGone()
        lat = float(self.profile.card.get("latency_ms") or 0)
        if lat:
            time.sleep(lat / 1000)
        try:
            outer = decode_command(apdu)
        except ProtocolError:
            return sw(0x6700).encode()
        if outer.extended and not self.profile.card.get("extended_length", True):
            return sw(0x6700).encode()  # as a reader/card pair without extended length would
        sm = self.sm
        if sm is not None and outer.cla & 0x0C == 0x0C:
            try:
                cmd = sm.unprotect_command(outer)
            except ProtocolError:
                self.reset()
                return sw(0x6988).encode()  # SM data objects incorrect: keys forgotten
        elif sm is not None:
            self.reset()  # a plain command ends secure messaging (e.g. a new PACE/BAC)
            sm, cmd = None, outer
        else:
            cmd = outer
        try:
            resp = self.dispatch(cmd)
        except ProtocolError:
            resp = sw(0x6A80)
        if sm is not None and self.sm is sm:
            resp = sm.protect_response(resp)
        if self._next_sm is not None:
            self.sm, self._next_sm = self._next_sm, None
        return resp.encode()

    def dispatch(self, cmd: Command) -> Response:
        ins = cmd.ins
        if ins == 0xA4:
            return self.select(cmd)
        if ins == 0xB0:
            return self.read_binary(cmd)
        if ins == 0x22:
            return self.mse(cmd)
        if ins == 0x86:
            return self.general_authenticate(cmd)
        if ins == 0x84:
            return self.get_challenge(cmd)
        if ins == 0x82:
            return self.external_authenticate(cmd)
        if ins == 0x88:
            return self.internal_authenticate(cmd)
        return sw(0x6D00)

    # -- files --------------------------------------------------------------
    def select(self, cmd: Command) -> Response:
        if cmd.p1 == 0x04:
            if cmd.data != AID:
                return sw(0x6A82)
            self.app, self.current = True, None
            return sw(0x9000)
        if cmd.p1 in (0x00, 0x02) and len(cmd.data) == 2:
            fid = int.from_bytes(cmd.data, "big")
            if fid == 0x3F00:
                return sw(0x6D00)  # the real cards' quirk
            name = FID.get(fid)
            if name is None or name not in self.files:
                return sw(0x6A82)
            self.current = name
            return sw(0x9000)
        return sw(0x6A86)

    def read_binary(self, cmd: Command) -> Response:
        if cmd.p1 & 0x80:
            name = SFI.get(cmd.p1 & 0x1F)
            offset = cmd.p2
            if name is None or name not in self.files:
                return sw(0x6A82)
            self.current = name
        else:
            name, offset = self.current, (cmd.p1 << 8) | cmd.p2
            if name is None:
                return sw(0x6986)
        if name != "CardAccess":
            if self.sm is None or not self.app:
                return sw(0x6982)
            if name == "DG3":
                return sw(0x6982)  # needs Terminal Authentication
        data = self.files[name]
        mx = self.profile.card.get("max_read")
        if mx and (cmd.le or 256) > int(mx):
            return sw(0x6C00 | int(mx) if self.profile.card.get("max_read_status") == "6Cxx" else 0x6700)
        if offset > len(data):
            return sw(0x6B00)
        le = cmd.le or 256
        chunk = data[offset:offset + le]
        return sw(0x9000 if len(chunk) == le else 0x6282, chunk)

    # -- PACE ---------------------------------------------------------------
    def mse(self, cmd: Command) -> Response:
        objs = dict(tlv.parse(cmd.data))
        if (cmd.p1, cmd.p2) == (0xC1, 0xA4):
            if "CardAccess" not in self.files:
                return sw(0x6A80)
            oid, ref = objs.get(0x80), objs.get(0x83)
            if oid not in pace.PACE_OIDS or ref not in (bytes([pace.MRZ]), bytes([pace.CAN])):
                return sw(0x6A80)
            pid = objs.get(0x84, b"\x0d")[0]
            if pid != 13:
                return sw(0x6A80)
            ref = ref[0]
            password = self.profile.person["id_number"][-6:] if ref == pace.CAN else \
                crypto.mrz_information(*self.mrz_key)
            self.sm, self.app = None, False
            self.pace_state = {"oid": oid, "kpi": pace.k_pi(password, ref), "step": 0}
            return sw(0x9000)
        if (cmd.p1, cmd.p2) == (0x41, 0xA4):
            if self.sm is None or self.ca_sk is None or objs.get(0x80) != files_mod.OID_CA_AES128:
                return sw(0x6A80)
            self.ca_oid = objs[0x80]
            return sw(0x9000)
        return sw(0x6A86)

    def general_authenticate(self, cmd: Command) -> Response:
        dyn = tlv.unwrap(cmd.data, 0x7C)
        objs = dict(tlv.parse(dyn)) if dyn else {}
        if self.sm is not None and self.ca_oid is not None:
            return self._chip_authentication(objs)
        st = self.pace_state
        if st is None:
            return sw(0x6985)
        c = self.curve
        step = st["step"]
        if step == 0 and not objs:
            st["s"] = os.urandom(16)
            st["step"] = 1
            return sw(0x9000, tlv.tlv(0x7C, tlv.tlv(0x80, pace.encrypt_nonce(st["kpi"], st["s"]))))
        if step == 1 and 0x81 in objs:
            sk = c.random_scalar()
            st["g2"] = pace.mapped_generator(c, st["s"], sk, objs[0x81])
            st["step"] = 2
            return sw(0x9000, tlv.tlv(0x7C, tlv.tlv(0x82, c.encode(c.mul(sk)))))
        if step == 2 and 0x83 in objs:
            sk = c.random_scalar()
            st["pk_ifd"] = objs[0x83]
            st["pk_ic"] = c.encode(c.mul(sk, st["g2"]))
            shared = c.x_bytes(c.mul(sk, c.decode(objs[0x83])))
            st["keys"] = pace.session_keys(shared)
            st["step"] = 3
            return sw(0x9000, tlv.tlv(0x7C, tlv.tlv(0x84, st["pk_ic"])))
        if step == 3 and 0x85 in objs:
            ks_enc, ks_mac = st["keys"]
            self.pace_state = None
            if objs[0x85] != pace.auth_token(ks_mac, st["oid"], st["pk_ic"]):
                return sw(0x6300)  # wrong password: the tokens cannot agree
            t_ic = pace.auth_token(ks_mac, st["oid"], st["pk_ifd"])
            self._next_sm = SecureMessaging(ks_enc, ks_mac, 0, "aes")
            return sw(0x9000, tlv.tlv(0x7C, tlv.tlv(0x86, t_ic)))
        self.pace_state = None
        return sw(0x6A80)

    def _chip_authentication(self, objs: dict) -> Response:
        pk = objs.get(0x80)
        self.ca_oid = None
        if pk is None:
            return sw(0x6A80)
        shared = self.curve.x_bytes(self.curve.mul(self.ca_sk, self.curve.decode(pk)))
        self._next_sm = SecureMessaging(crypto.kdf(shared, crypto.ENC, "aes"), crypto.kdf(shared, crypto.MAC, "aes"),
                                        0, "aes")
        return sw(0x9000, tlv.tlv(0x7C, b""))

    # -- BAC ----------------------------------------------------------------
    def get_challenge(self, cmd: Command) -> Response:
        self.sm = None
        self.bac_challenge = os.urandom(8)
        return sw(0x9000, self.bac_challenge)

    def external_authenticate(self, cmd: Command) -> Response:
        rnd_ic, self.bac_challenge = self.bac_challenge, None
        if rnd_ic is None or not self.app or len(cmd.data) != 40:
            return sw(0x6985)
        k_enc, k_mac = crypto.bac_keys(crypto.mrz_information(*self.mrz_key))
        if crypto.retail_mac(k_mac, crypto.pad(cmd.data[:32], 8)) != cmd.data[32:]:
            return sw(0x6300)
        s = crypto.des3_decrypt(k_enc, cmd.data[:32])
        if s[8:16] != rnd_ic:
            return sw(0x6300)
        rnd_ifd, k_ifd, k_ic = s[:8], s[16:], os.urandom(16)
        r = crypto.des3_encrypt(k_enc, rnd_ic + rnd_ifd + k_ic)
        seed = bytes(a ^ b for a, b in zip(k_ifd, k_ic))
        self._next_sm = SecureMessaging(crypto.kdf(seed, crypto.ENC), crypto.kdf(seed, crypto.MAC),
                                        rnd_ic[4:] + rnd_ifd[4:], "3des")
        return sw(0x9000, r + crypto.retail_mac(k_mac, crypto.pad(r, 8)))

    # -- Active Authentication ----------------------------------------------
    def internal_authenticate(self, cmd: Command) -> Response:
        if self.sm is None or self.aa_sk is None:
            return sw(0x6982 if self.sm is None else 0x6D00)
        if not isinstance(self.aa_sk, c_ec.EllipticCurvePrivateKey):
            return sw(0x9000, _iso9796_2_sign(self.aa_sk, cmd.data))
        der = self.aa_sk.sign(cmd.data, c_ec.ECDSA(hashes.SHA256()))
        r, s = utils.decode_dss_signature(der)
        size = (self.aa_sk.curve.key_size + 7) // 8
        return sw(0x9000, r.to_bytes(size, "big") + s.to_bytes(size, "big"))


def _iso9796_2_sign(key, rnd: bytes) -> bytes:
    """ISO/IEC 9796-2 scheme 1, SHA-1, partial recovery: F = 6A ‖ M1 ‖ SHA-1(M1 ‖ M2) ‖ BC, then RSA."""
    nums = key.private_numbers()
    n, d = nums.public_numbers.n, nums.d
    k = (n.bit_length() + 7) // 8
    m1 = os.urandom(k - 22)
    f = b"\x6a" + m1 + hashlib.sha1(m1 + rnd).digest() + b"\xbc"
    return pow(int.from_bytes(f, "big"), d, n).to_bytes(k, "big")


class InProcessConnection:
    """The emulator as a Connection, without PC/SC (unit tests, the demo)."""

    def __init__(self, card: CccdCard):
        self.card = card
        card.reset()

    def transmit(self, apdu: bytes) -> bytes:
        try:
            return self.card.process(apdu)
        except CardGone:
            raise CardRemoved("the card left the reader") from None

    def close(self) -> None:
        pass
