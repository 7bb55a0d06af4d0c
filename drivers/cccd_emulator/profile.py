"""Emulator profiles: a person (the reader's output names) plus the card's behaviour.

```json
{
  "id_number": "001085012345", "full_name": "Nguyễn Văn An", "date_of_birth": "1985-03-14", "sex": "male",
  "nationality": "Việt Nam", "ethnicity": "Kinh", "religion": "Không", "place_of_origin": "...",
  "place_of_residence": "...", "identifying_marks": "...", "issue_date": "2021-04-20",
  "expiry_date": "2025-03-14",            // null: a lifetime card (MRZ expiry 991231)
  "father_name": "...", "mother_name": "...", "spouse_name": null, "old_id_number": "123456789",
  "card": {
    "access": "pace+bac",                 // or "bac": a BAC-only chip (no EF.CardAccess)
    "anti_cloning": "ca+aa",              // "ca+aa", "aa" (DG15 only) or "none"
    "aa_key": "ec",                       // DG15 key: "ec" (ECDSA, plain r||s) or "rsa" (ISO/IEC 9796-2 scheme 1)
    "clone": false,                       // valid signed data, but the chip holds other private keys
    "tamper_dg": null,                    // a data group number changed after EF.SOD was signed
    "drop_after_commands": null,          // the card leaves the field after N commands...
    "drop_repeat": false,                 // ...every time it is placed again (else only once)
    "return_after_ms": 300,               // vpcd: how long the card is "away" after a drop
    "latency_ms": 0,                      // sleep per command (25 ms is a typical contactless exchange)
    "extended_length": true,              // false: answer 6700 to extended APDUs, like an ACR122U path
    "photo_bytes": 18000,                 // DG2 size
    "max_read": null,                     // READ BINARY asking more than this is refused...
    "max_read_status": "6700"             // ...with 6700, or "6Cxx" (xx = max_read)
  }
}
```
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

PERSON_KEYS = ("id_number", "full_name", "date_of_birth", "sex", "nationality", "ethnicity", "religion",
               "place_of_origin", "place_of_residence", "identifying_marks", "issue_date", "expiry_date",
               "father_name", "mother_name", "spouse_name", "old_id_number")
CARD_DEFAULTS = {"access": "pace+bac", "anti_cloning": "ca+aa", "clone": False, "tamper_dg": None,
                 "drop_after_commands": None, "drop_repeat": False, "return_after_ms": 300, "latency_ms": 0,
                 "extended_length": True, "photo_bytes": 18000, "unknown_field_16": "0123456789ABCDEF",
                 "max_read": None, "max_read_status": "6700", "aa_key": "ec"}


class ProfileError(ValueError):
    pass


@dataclass
class Profile:
    person: dict
    card: dict = field(default_factory=lambda: dict(CARD_DEFAULTS))

    @classmethod
    def from_dict(cls, d: dict) -> "Profile":
        person = {k: d.get(k) for k in PERSON_KEYS}
        for k in ("id_number", "full_name", "date_of_birth", "sex"):
            if not person[k]:
                raise ProfileError(f"profile: {k} is required")
        if len(person["id_number"]) != 12 or not (person["id_number"].isascii() and person["id_number"].isdigit()):
            raise ProfileError("profile: id_number must be 12 digits")
        unknown = set(d) - set(PERSON_KEYS) - {"card", "about"}
        if unknown:
            raise ProfileError(f"profile: unknown keys {sorted(unknown)}")
        card = dict(CARD_DEFAULTS)
        extra = set(d.get("card", {})) - set(CARD_DEFAULTS)
        if extra:
            raise ProfileError(f"profile card: unknown keys {sorted(extra)}")
        card.update(d.get("card", {}))
        if card["access"] not in ("pace+bac", "bac"):
            raise ProfileError("profile card.access: expected \"pace+bac\" or \"bac\"")
        if card["anti_cloning"] not in ("ca+aa", "aa", "none"):
            raise ProfileError("profile card.anti_cloning: expected \"ca+aa\", \"aa\" or \"none\"")
        return cls(person, card)

    def with_card(self, **changes) -> "Profile":
        card = dict(self.card)
        card.update(changes)
        return Profile(dict(self.person), card)


def load_profile(path: str | Path) -> Profile:
    try:
        return Profile.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, json.JSONDecodeError) as e:
        raise ProfileError(f"profile {path}: {e}") from None
