"""Django set-up for the hub's own processes: the `kiosk-hub` command (after its arguments parse) and the
scripts and tests that use the hub's models in-process. gunicorn's workers set up through kiosk_hub.wsgi."""

from __future__ import annotations

import os

import django


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kiosk_hub.settings")
    django.setup()
