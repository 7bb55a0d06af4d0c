"""kiosk-hub: the provincial hub's command (docs/hub.md, docs/cli.md)."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kiosk_hub.settings")
    import django
    from django.core.management import call_command

    django.setup()
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["migrate"]:
        call_command("migrate", verbosity=0)
        print("database migrated")
        return 0
    print("error: not yet implemented", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
