"""A Vietnamese name as written on the card, split family first."""

from __future__ import annotations

import unicodedata


def human_name(full_name: str) -> dict:
    """`text` is the name exactly as on the card (NFC); `family` its first word (họ); `given` the rest, one
    element per word (tên đệm … tên), in order. R4 defines given as "given names, including middle names",
    one per element, and joining family and given with spaces gives `text` back (docs/fhir.md)."""
    text = unicodedata.normalize("NFC", " ".join(full_name.split()))
    words = text.split(" ")
    out = {"use": "official", "text": text}
    if len(words) > 1:
        out |= {"family": words[0], "given": words[1:]}
    elif words[0]:
        out |= {"given": words}   # a single word (some foreigners' passports): no family name is invented
    return out
