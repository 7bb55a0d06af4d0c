"""PACE v2, ECDH Generic Mapping, AES-CBC-CMAC (ICAO 9303-11 §4.4, Appendix G.1).

Pure computations shared by the terminal (`ChipReader`) and the emulator.
"""

from __future__ import annotations

import hashlib

from drivers.chip import crypto, tlv
from drivers.chip.ec import Curve

MRZ, CAN = 1, 2  # password references for MSE:Set AT

PACE_OIDS = {
    # id-PACE-ECDH-GM-AES-CBC-CMAC-{128,192,256}
    bytes.fromhex("04007F00070202040202"): ("aes", 128),
    bytes.fromhex("04007F00070202040203"): ("aes", 192),
    bytes.fromhex("04007F00070202040204"): ("aes", 256),
}


def password_key(password: str, ref: int) -> bytes:
    """K of the password: SHA-1 of the MRZ information, or the CAN itself."""
    if ref == MRZ:
        return hashlib.sha1(password.encode("ascii")).digest()
    return password.encode("ascii")


def k_pi(password: str, ref: int, key_bits: int = 128) -> bytes:
    return crypto.kdf(password_key(password, ref), crypto.PACE, "aes", key_bits)


def decrypt_nonce(kpi: bytes, z: bytes) -> bytes:
    return crypto.aes_decrypt(kpi, z)


def encrypt_nonce(kpi: bytes, s: bytes) -> bytes:
    return crypto.aes_encrypt(kpi, s)


def session_keys(shared_x: bytes, key_bits: int = 128) -> tuple[bytes, bytes]:
    return crypto.kdf(shared_x, crypto.ENC, "aes", key_bits), crypto.kdf(shared_x, crypto.MAC, "aes", key_bits)


def auth_token(ks_mac: bytes, oid: bytes, public_point: bytes) -> bytes:
    """T = CMAC(KS_mac, 7F49 {06 OID, 86 point}) cut to 8 bytes."""
    data = tlv.tlv(0x7F49, tlv.tlv(0x06, oid) + tlv.tlv(0x86, public_point))
    return crypto.aes_cmac(ks_mac, data)


def mapped_generator(curve: Curve, nonce: bytes, sk_map: int, pk_map_other: bytes):
    h = curve.mul(sk_map, curve.decode(pk_map_other))
    return curve.map_generator(int.from_bytes(nonce, "big"), h)


def general_authenticate(tag: int, value: bytes) -> bytes:
    return tlv.tlv(0x7C, tlv.tlv(tag, value) if value is not None else b"")
