import sys

from ui.i18n import LANGS, build, unfinished, update

cmd = sys.argv[1] if len(sys.argv) > 1 else "build"
if cmd == "update":
    update()
elif cmd == "build":
    for p in build():
        print(p)
elif cmd == "check":
    missing = {lang: unfinished(lang) for lang in LANGS}
    for lang, items in missing.items():
        for s in items:
            print(f"{lang}: {s}")
    sys.exit(1 if any(missing.values()) else 0)
else:
    sys.exit("usage: python -m ui.i18n update|build|check")
