"""The field cipher personal columns are stored under, and which columns those are.

One 256-bit device secret (its file, provisioning and shredding are
kiosk.privacy.datakey's) gives two subkeys, derived with HKDF-SHA256:

- an AES-256-GCM key for identity fields: each value is sealed on its own
  with a fresh 96-bit nonce and the column it belongs to as associated data
  (a ciphertext moved to another column does not open);
- an HMAC-SHA256 key for lookups: `lookup("id", "040195001234")` finds a
  patient without the number being stored in clear.

Sealed values are text: ``enc1:`` + base64url(nonce ‖ ciphertext ‖ tag).
:meth:`DataKey.open` passes through values without that prefix, so rows
written before encryption was switched on still read.

The class lives in the store, not in kiosk.privacy, because the store seals
as it writes (an outbox payload is sealed inside :func:`kiosk.store.outbox.enqueue`)
and carries the key on every connection; kiosk.privacy builds on the store,
never the other way round.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from kiosk.errors import KioskError

PREFIX = "enc1:"
KEY_BYTES = 32

# The identity fields of `patients` that are sealed at rest (sex and the masked ID stay clear: the masked ID
# is what screens show, and sex alone identifies nobody).
PATIENT_FIELDS = ("id_number", "social_insurance_number", "card_number", "full_name", "date_of_birth", "address")

# table → sealed columns (the AES-GCM associated data is "<table>.<column>"; see `context`). The at-rest half of
# docs/privacy.md's inventory.
SEALED: dict[str, tuple[str, ...]] = {
    "patients": PATIENT_FIELDS,
    "stay_notifications": ("full_name", "date_of_birth", "id_number", "passport_number", "reason"),
    "visit_changes": ("old_value", "new_value"),
    "staff": ("id_number", "birth_date"),
}

# Keys of an outbox payload whose values are personal: sealed at rest, opened by the sender just before sending.
PAYLOAD_PERSONAL = ("patient", "card", "full_name", "date_of_birth", "id_number", "passport_number", "reason",
                    "social_insurance_number", "card_number", "address")


class DecryptError(KioskError):
    """A sealed value does not open under this key: wrong key, or the value was tampered with."""


def _derive(master: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"tramyte-kiosk data key v1", info=info).derive(master)


@dataclass(frozen=True, eq=False)
class DataKey:
    master: bytes
    key_id: str = field(init=False)
    _aead: AESGCM = field(init=False)
    _mac: bytes = field(init=False)

    def __post_init__(self) -> None:
        if len(self.master) != KEY_BYTES:
            raise ValueError("a data key is 32 bytes")
        object.__setattr__(self, "_aead", AESGCM(_derive(self.master, b"field encryption")))
        object.__setattr__(self, "_mac", _derive(self.master, b"lookup hash"))
        object.__setattr__(self, "key_id", hmac.new(self.master, b"key id", hashlib.sha256).hexdigest()[:16])

    def __repr__(self) -> str:  # never print key material
        return f"DataKey(key_id={self.key_id})"

    # --- fields ---------------------------------------------------------------------------------------------
    def seal(self, value: str | None, context: str) -> str | None:
        """Encrypt one field value (None stays None). `context` is the column, e.g. "patients.full_name"."""
        return None if value is None else self._seal(value, context)

    def _seal(self, value: str, context: str) -> str:
        nonce = secrets.token_bytes(12)
        ct = self._aead.encrypt(nonce, value.encode("utf-8"), context.encode())
        return PREFIX + base64.urlsafe_b64encode(nonce + ct).decode("ascii").rstrip("=")

    def open(self, value: str | None, context: str) -> str | None:
        """Decrypt a sealed value; clear values (rows from before encryption) pass through unchanged."""
        if value is None or not isinstance(value, str) or not value.startswith(PREFIX):
            return value
        return self._open(value, context)

    def _open(self, value: str, context: str) -> str:
        body = value[len(PREFIX):]
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            return self._aead.decrypt(raw[:12], raw[12:], context.encode()).decode("utf-8")
        except (InvalidTag, ValueError) as e:
            raise DecryptError(f"a {context} value does not open under this device's data key "
                               f"({type(e).__name__}): wrong key file, or the database was altered") from None

    def seal_json(self, obj: Any, context: str) -> str:
        return self._seal(json.dumps(obj, ensure_ascii=False, sort_keys=True), context)

    def open_json(self, value: Any, context: str) -> Any:
        if isinstance(value, str) and value.startswith(PREFIX):
            return json.loads(self._open(value, context))
        return value

    # --- lookups --------------------------------------------------------------------------------------------
    def lookup(self, kind: str, value: str) -> str:
        """Keyed hash of an identifier (hex): equal inputs give equal outputs, nothing else is learnt."""
        return hmac.new(self._mac, f"{kind}:{value.strip()}".encode("utf-8"), hashlib.sha256).hexdigest()

    def identity_key(self, id_number: str | None, social_insurance_number: str | None) -> str:
        """The patients.identity_key for an identity: "hid:<hmac>" or "hsin:<hmac>" (never the number)."""
        if id_number:
            return "hid:" + self.lookup("id", id_number)
        if social_insurance_number:
            return "hsin:" + self.lookup("sin", social_insurance_number)
        raise ValueError("identity has neither an ID number nor a social-insurance number")


def is_sealed(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def context(table: str, column: str) -> str:
    """The associated data a column's values are sealed with (the desk seals change values as one kind)."""
    return "visit_changes.value" if table == "visit_changes" else f"{table}.{column}"


def seal_payload(body: Any, key: DataKey | None) -> Any:
    """An outbox payload with its personal values sealed (the sender opens them just before sending)."""
    if key is None or not isinstance(body, dict):
        return body
    out = {}
    for k, v in body.items():
        if k in PAYLOAD_PERSONAL and v is not None and not is_sealed(v):
            out[k] = key.seal_json(v, "outbox.payload")
        else:
            out[k] = v
    return out
