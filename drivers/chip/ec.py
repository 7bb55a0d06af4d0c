"""Raw elliptic-curve arithmetic for PACE Generic Mapping and Chip Authentication.

`cryptography` cannot multiply an arbitrary point or use a mapped generator,
so the point maths uses the `ecdsa` package (pure Python, not constant
time: acceptable for ephemeral terminal keys, and the card side is a test
emulator). Points travel as uncompressed X9.62 bytes (04 ‖ x ‖ y).
"""

from __future__ import annotations

import secrets

from ecdsa import curves, ellipticcurve

from drivers.chip.errors import ProtocolError

# PACE standardized domain parameter IDs (9303-11 table 6) we support.
CURVES = {13: curves.BRAINPOOLP256r1, 12: curves.NIST256p, 16: curves.BRAINPOOLP384r1,
          15: curves.NIST384p, 17: curves.BRAINPOOLP512r1, 18: curves.NIST521p}
BY_NAME = {"brainpoolP256r1": curves.BRAINPOOLP256r1, "secp256r1": curves.NIST256p,
           "brainpoolP384r1": curves.BRAINPOOLP384r1, "secp384r1": curves.NIST384p}


class Curve:
    def __init__(self, ecdsa_curve):
        self.c = ecdsa_curve
        self.curve = ecdsa_curve.curve
        self.g = ecdsa_curve.generator
        self.n = ecdsa_curve.order
        self.size = (self.curve.p().bit_length() + 7) // 8

    @classmethod
    def by_param_id(cls, pid: int) -> "Curve":
        if pid not in CURVES:
            raise ProtocolError(f"PACE domain parameters {pid} not supported")
        return cls(CURVES[pid])

    def random_scalar(self) -> int:
        return secrets.randbelow(self.n - 1) + 1

    def encode(self, p) -> bytes:
        return b"\x04" + int(p.x()).to_bytes(self.size, "big") + int(p.y()).to_bytes(self.size, "big")

    def decode(self, data: bytes):
        if len(data) != 1 + 2 * self.size or data[0] != 4:
            raise ProtocolError(f"EC point of {len(data)} bytes is not uncompressed on this curve")
        x = int.from_bytes(data[1:1 + self.size], "big")
        y = int.from_bytes(data[1 + self.size:], "big")
        if not self.curve.contains_point(x, y):
            raise ProtocolError("EC point is not on the curve")
        return ellipticcurve.PointJacobi(self.curve, x, y, 1, self.n)

    def mul(self, k: int, p=None):
        q = (p if p is not None else self.g) * k
        if q == ellipticcurve.INFINITY or not q:
            raise ProtocolError("EC multiplication gave the point at infinity")
        return q

    def x_bytes(self, p) -> bytes:
        return int(p.x()).to_bytes(self.size, "big")

    def map_generator(self, nonce: int, h):
        """Generic Mapping: G' = s·G + H."""
        g2 = self.g * nonce + h
        if not g2 or g2 == ellipticcurve.INFINITY:
            raise ProtocolError("mapped generator is the point at infinity")
        return g2
