"""The dashboard's translations: English source strings, Vietnamese in locale/vi/LC_MESSAGES/django.po.

The compiled `django.mo` is committed beside it, so the hub needs no GNU gettext at run time
(Django reads .mo files with Python's own gettext module). After editing the .po:

    python -m kiosk_hub.dashboard.i18n build   # compile .po → .mo with polib (pure Python)
    python -m kiosk_hub.dashboard.i18n check   # exit 1 if a string is untranslated or the .mo is stale

New strings are collected with Django's `makemessages` (needs xgettext, a developer tool only):
    cd hub/kiosk_hub/dashboard && django-admin makemessages -l vi --no-location --no-wrap
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

LOCALE = Path(__file__).parent / "locale"
LANGS = ("vi",)


def po_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / "django.po"


def compile_po(po: Path, mo: Path) -> None:
    import polib   # deferred: polib is in the test extra only (the catalogue check), not a runtime dependency

    polib.pofile(str(po)).save_as_mofile(str(mo))


def untranslated(lang: str) -> list[str]:
    import polib   # deferred: the test extra only, as in compile_po

    cat = polib.pofile(str(po_path(lang)))
    return [e.msgid for e in cat if not e.obsolete and (not e.translated() or "fuzzy" in e.flags)]


def stale(lang: str) -> bool:
    po = po_path(lang)
    mo = po.with_suffix(".mo")
    if not mo.exists():
        return True
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "django.mo"
        compile_po(po, fresh)
        return fresh.read_bytes() != mo.read_bytes()


def main(argv: list[str]) -> int:
    cmd = argv[0] if argv else "check"
    if cmd == "build":
        for lang in LANGS:
            compile_po(po_path(lang), po_path(lang).with_suffix(".mo"))
        return 0
    if cmd == "check":
        bad = 0
        for lang in LANGS:
            for msgid in untranslated(lang):
                print(f"{lang}: untranslated: {msgid}")
                bad = 1
            if stale(lang):
                print(f"{lang}: django.mo is older than django.po (run: python -m kiosk_hub.dashboard.i18n build)")
                bad = 1
        return bad
    print("usage: python -m kiosk_hub.dashboard.i18n build|check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
