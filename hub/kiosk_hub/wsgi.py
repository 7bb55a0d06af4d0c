"""WSGI entry point for gunicorn (`kiosk-hub serve`, or gunicorn kiosk_hub.wsgi behind nginx)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kiosk_hub.settings")
application = get_wsgi_application()
