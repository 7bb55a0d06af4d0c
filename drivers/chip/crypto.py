"""ICAO 9303-11 primitives: key derivation, padding, 3DES/AES ciphers and MACs.

Kept free of I/O so the worked examples in shared/vectors can check every byte.
`cryptography`'s TripleDES lives in `hazmat.decrepit` since 43.0 and wants
24-byte keys (K1‖K2‖K1) from 48.0 on; we always pass 24 bytes.
"""

from __future__ import annotations

import hashlib
import os

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import cmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from drivers.chip.errors import SecureMessagingError

ENC, MAC, PACE = 1, 2, 3


def pad(data: bytes, block: int) -> bytes:
    """ISO/IEC 9797-1 padding method 2."""
    data = data + b"\x80"
    return data + b"\x00" * (-len(data) % block)


def unpad(data: bytes) -> bytes:
    i = data.rstrip(b"\x00")
    if not i or i[-1] != 0x80:
        raise SecureMessagingError("bad padding in decrypted data")
    return i[:-1]


def _parity(key: bytes) -> bytes:
    out = bytearray()
    for b in key:
        b &= 0xFE
        out.append(b | (bin(b).count("1") % 2 == 0))
    return bytes(out)


def kdf(secret: bytes, counter: int, cipher: str = "3des", key_bits: int = 128) -> bytes:
    """KDF(K, c) of 9303-11 §9.7.1: SHA-1 for 3DES and AES-128, SHA-256 for AES-192/256."""
    data = secret + counter.to_bytes(4, "big")
    if cipher == "3des":
        return _parity(hashlib.sha1(data).digest()[:16])
    if key_bits == 128:
        return hashlib.sha1(data).digest()[:16]
    return hashlib.sha256(data).digest()[: key_bits // 8]


def check_digit(text: str) -> str:
    weights = (7, 3, 1)
    total = 0
    for i, ch in enumerate(text):
        if "0" <= ch <= "9":  # ASCII only: int() would also take other scripts' digits
            v = int(ch)
        elif "A" <= ch <= "Z":
            v = ord(ch) - 55
        else:
            v = 0
        total += v * weights[i % 3]
    return str(total % 10)


def mrz_information(document_number: str, date_of_birth: str, date_of_expiry: str) -> str:
    """Document number (padded to 9 with '<') + check digits + birth and expiry dates (yymmdd)."""
    doc = document_number.ljust(9, "<")
    return (doc + check_digit(doc) + date_of_birth + check_digit(date_of_birth)
            + date_of_expiry + check_digit(date_of_expiry))


def bac_keys(mrz_info: str) -> tuple[bytes, bytes]:
    seed = hashlib.sha1(mrz_info.encode("ascii")).digest()[:16]
    return kdf(seed, ENC), kdf(seed, MAC)


def _des3(key: bytes) -> TripleDES:
    return TripleDES(key + key[:8] if len(key) == 16 else key)


def des3_encrypt(key: bytes, data: bytes, iv: bytes = bytes(8)) -> bytes:
    e = Cipher(_des3(key), modes.CBC(iv)).encryptor()
    return e.update(data) + e.finalize()


def des3_decrypt(key: bytes, data: bytes, iv: bytes = bytes(8)) -> bytes:
    d = Cipher(_des3(key), modes.CBC(iv)).decryptor()
    return d.update(data) + d.finalize()


def retail_mac(key: bytes, data: bytes) -> bytes:
    """ISO 9797-1 MAC algorithm 3 (DES CBC with K1, then 3DES on the last block); data already padded."""
    k1, k2 = key[:8], key[8:16]
    e = Cipher(_des3(k1 + k1 + k1), modes.CBC(bytes(8))).encryptor()
    h = (e.update(data) + e.finalize())[-8:]
    d = Cipher(_des3(k2 + k2 + k2), modes.ECB()).decryptor()
    h = d.update(h) + d.finalize()
    e = Cipher(_des3(k1 + k1 + k1), modes.ECB()).encryptor()
    return e.update(h) + e.finalize()


def aes_encrypt(key: bytes, data: bytes, iv: bytes = bytes(16)) -> bytes:
    e = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    return e.update(data) + e.finalize()


def aes_decrypt(key: bytes, data: bytes, iv: bytes = bytes(16)) -> bytes:
    d = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    return d.update(data) + d.finalize()


def aes_ecb(key: bytes, block: bytes) -> bytes:
    e = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return e.update(block) + e.finalize()


def aes_cmac(key: bytes, data: bytes) -> bytes:
    c = cmac.CMAC(algorithms.AES(key))
    c.update(data)
    return c.finalize()[:8]


def random_bytes(n: int) -> bytes:
    return os.urandom(n)
