"""Text people read — CLI, doctor, ticket and voice — from one key-based catalogue, in Vietnamese and English.

    from kiosk.text import t
    t("doctor.disk.free", "en", free_mb=812, total_mb=29000, path="/var/lib/kiosk")

The catalogue is `messages.toml` in this package: one table per key with a
`vi` and an `en` string, `{field}` placeholders filled by `t(..., **fields)`.
Why a TOML data file and not gettext (.po/.mo through Babel): the code
names messages by stable keys (a doctor finding, a refusal reason) rather than
by their English text, which is what gettext's msgid model is built around;
the two languages sit side by side for whoever edits them; tomllib is in the
standard library, so there is no runtime dependency and no compile step, and
the file ships as package data like the migrations. Qt's `.ts` files stay for
widget strings only (ui/i18n/).

`tests/text/test_catalogue.py` checks that every key has both languages with
the same fields, that every key the code uses exists, and that none is unused.
A key missing at run time (a bug the test should have caught) shows as the key
itself and a log line, never a crash in front of a patient.
"""

from __future__ import annotations

import logging
import string
import tomllib
from functools import cache
from importlib import resources
from typing import Any

log = logging.getLogger(__name__)

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"


def _flatten(table: dict[str, Any], prefix: str, out: dict[str, dict[str, str]]) -> None:
    for name, value in table.items():
        key = f"{prefix}.{name}" if prefix else name
        if not isinstance(value, dict):
            raise ValueError(f"messages.toml: {key} is not a table")
        if all(isinstance(v, str) for v in value.values()) and value:
            out[key] = dict(value)
        else:
            _flatten(value, key, out)


@cache
def catalogue() -> dict[str, dict[str, str]]:
    """Every message: key → {language: text}."""
    raw = tomllib.loads(resources.files(__package__).joinpath("messages.toml").read_text(encoding="utf-8"))
    out: dict[str, dict[str, str]] = {}
    _flatten(raw, "", out)
    return out


def fields(text: str) -> set[str]:
    """The {field} names a message uses."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def t(key: str, lang: str = DEFAULT_LANGUAGE, **values: object) -> str:
    """The message `key` in `lang` (Vietnamese for a language the catalogue does not have), fields filled."""
    entry = catalogue().get(key)
    if entry is None:
        log.warning("event=text_key_missing key=%s", key)
        return key
    text = entry.get(lang) or entry[DEFAULT_LANGUAGE]
    return text.format(**values) if values else text


def both(key: str, **values: object) -> str:
    """"vi / en": for CLI lines a technician and a receptionist both read, which have no --lang."""
    return " / ".join(t(key, lang, **values) for lang in LANGUAGES)
