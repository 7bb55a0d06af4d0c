"""Keyed hashing of roster identifiers: the roster is looked up, never read.

The roster on a device holds identifiers only as keyed hashes (HMAC-SHA256
under the province's roster key), so a copied database is not a list of
insured people. A lookup hashes what the patient presented with the same key.

On disk a hash is its first 8 bytes as a signed 64-bit integer ("key64"):
SQLite stores it in the row itself (no separate text), which keeps a
3.4-million-card roster well under the SD card budget. 64 bits is plenty for
an exact-match lookup at province scale (a chance collision between two of
3.4 M cards is about 3 in 10 million, and a collision can only make one
lookup find the wrong card, which the name/birth-date check then flags).
"""

from __future__ import annotations

import hashlib
import unicodedata
from pathlib import Path

from kiosk.errors import ConfigError

# Only matches the demo roster; a provisioned device has its own key file.
DEMO_KEY = b"tramyte-kiosk demo roster key - not for production"



def load_key(key_file: str) -> bytes:
    if not key_file:
        return DEMO_KEY
    try:
        raw = Path(key_file).read_bytes().strip()
    except OSError as e:
        raise ConfigError(f"roster.key_file: cannot read {key_file}: {e.strerror}") from None
    if len(raw) < 32:
        raise ConfigError("roster.key_file: expected at least 32 bytes of key material")
    return raw


class _Hmac:
    """HMAC-SHA256 (RFC 2104) with the padded key states computed once: an import hashes ~17 M values."""

    def __init__(self, key: bytes):
        if len(key) > 64:
            key = hashlib.sha256(key).digest()
        key = key.ljust(64, b"\0")
        self.inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        self.outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def digest(self, msg: bytes) -> bytes:
        i = self.inner.copy()
        i.update(msg)
        o = self.outer.copy()
        o.update(i.digest())
        return o.digest()


_states: dict[bytes, _Hmac] = {}


def _k(key: bytes, kind: bytes, value: str) -> int:
    h = _states.get(key)
    if h is None:
        h = _states[key] = _Hmac(key)
    return int.from_bytes(h.digest(kind + value.encode("utf-8"))[:8], "big", signed=True)


def normalise_card(card_number: str) -> str:
    return card_number.strip().upper()


def card_identity(key: bytes, card_number: str) -> tuple[int, str | None]:
    """A card as (keyed BHXH number, clear prefix): `HS4401234567890` → (sin_key("4012345678"), "HS440").

    The 15-character code is group (2) + level (1) + province (2) + the
    10-digit BHXH number; the prefix says nothing about the person (group,
    level and province are kept in clear anyway), so only the number is
    hashed, once, and serves lookups by card code, printed number and BHXH
    number alike. A card printed with the 10-digit number has no prefix.
    """
    c = normalise_card(card_number)
    if len(c) == 15:
        return sin_key(key, c[5:]), c[:5]
    return sin_key(key, c), None


def id_key(key: bytes, id_number: str) -> int:
    """The 12-digit personal identification number."""
    return _k(key, b"id:", id_number.strip())


def sin_key(key: bytes, social_insurance_number: str) -> int:
    """The 10-digit social-insurance (BHXH) number: also the number printed on new cards."""
    return _k(key, b"sin:", social_insurance_number.strip())


def name_key(key: bytes, full_name: str) -> int:
    return _k(key, b"name:", normalise_name(full_name))


def birth_key(key: bytes, date_of_birth: str) -> int:
    """ISO date `YYYY-MM-DD`, or `YYYY` when only the year is known."""
    return _k(key, b"dob:", date_of_birth.strip())


def _fold_table() -> dict[int, int | None]:
    # Every Latin letter with diacritics (U+00C0–U+024F, U+1E00–U+1EFF) → its base letter; combining marks → gone.
    table: dict[int, int | None] = {ord("đ"): ord("d"), ord("Đ"): ord("D")}
    for cp in list(range(0xC0, 0x250)) + list(range(0x1E00, 0x1F00)):
        base = "".join(c for c in unicodedata.normalize("NFD", chr(cp)) if not unicodedata.combining(c))
        if len(base) == 1 and base != chr(cp):
            table[cp] = ord(base)
    for cp in range(0x300, 0x370):
        table[cp] = None
    return table


_FOLD = _fold_table()


def normalise_name(name: str) -> str:
    """The form the name check compares: no diacritics (đ → d), case-folded, single spaces.

    Diacritics are dropped on purpose: the chip MRZ and some scanners give the
    name without them, and a kiosk must not call "LE VAN BINH" a different
    person from "Lê Văn Bình".
    """
    return " ".join(name.translate(_FOLD).casefold().split())
