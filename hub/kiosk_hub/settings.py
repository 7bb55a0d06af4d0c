"""Settings of the provincial hub, all from the environment (docs/hub.md).

KIOSK_HUB_DATABASE_URL   postgres://user:pass@host:port/db or sqlite:////abs/path.db
                         (default: SQLite hub.db in KIOSK_HUB_DATA_DIR)
KIOSK_HUB_DATA_DIR       roster files, the embedded database, the generated secret key (default /var/lib/kiosk-hub)
KIOSK_HUB_SECRET_KEY     Django's secret key (default: generated once into DATA_DIR/secret_key, 0600)
KIOSK_HUB_ALLOWED_HOSTS  comma-separated host names (default *: nginx in front checks the name)
KIOSK_HUB_RETENTION_DAYS personal fields of visits and stay notifications are purged after this (default 365)
KIOSK_HUB_GATEWAY_ACCOUNT the national-gateway account file for the eligibility relay (or `serve --gateway-account`)
KIOSK_HUB_ELIGIBILITY_PER_MINUTE  relay lookups per device per minute (default 30)
KIOSK_HUB_TOKEN_CACHE_SECONDS  how long a worker keeps token -> device (default 5; 0: off); enrol and revoke
                         drop it at once on this host (kiosk_hub.ingest.devices)
KIOSK_HUB_SHED_SECONDS   a device write that would queue longer than this in a worker is answered 503 with
                         Retry-After at once (default 3; 0: off; kiosk_hub.worker)
"""

from __future__ import annotations

import importlib.util
import os
import secrets
from pathlib import Path

import dj_database_url

# Everything the hub writes (database, its WAL, roster files, the key) holds personal data or secrets:
# owner-only from the start, rather than chmod after the fact.
os.umask(0o077)

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("KIOSK_HUB_DATA_DIR", "/var/lib/kiosk-hub"))


def _ensure_data_dir() -> None:
    try:
        DATA_DIR.mkdir(parents=True, exist_ok=True, mode=0o700)
    except PermissionError:
        pass  # reported by the command that needs it (readable error, exit 2)


def _secret_key() -> str:
    key = os.environ.get("KIOSK_HUB_SECRET_KEY", "").strip()
    if key:
        return key
    _ensure_data_dir()
    path = DATA_DIR / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    except PermissionError:
        return secrets.token_urlsafe(50)  # not our directory: a per-process key (sessions do not survive)
    key = secrets.token_urlsafe(50)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        return path.read_text().strip()  # another worker won the race
    except OSError:
        return key
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
    return key


_ensure_data_dir()
SECRET_KEY = _secret_key()
DEBUG = False
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("KIOSK_HUB_ALLOWED_HOSTS", "*").split(",") if h.strip()]

_OPTIONAL_APPS = [a for a in ("kiosk_hub.accounts", "kiosk_hub.dashboard")
                  if importlib.util.find_spec(a) is not None]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "kiosk_hub.registry",
    "kiosk_hub.ingest",
    "kiosk_hub.fhir",
    *_OPTIONAL_APPS,
]

MIDDLEWARE = [
    "kiosk_hub.ingest.fastpath.DeviceAPIFastPath",   # device API and probes: none of the rest (dashboard only)
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = 0.25  # hours: 15 minutes
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked.html"  # the dashboard's page (429), in the user's language

ROOT_URLCONF = "kiosk_hub.urls"
WSGI_APPLICATION = "kiosk_hub.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def _database() -> dict:
    url = os.environ.get("KIOSK_HUB_DATABASE_URL", "").strip()
    if not url:
        url = f"sqlite:///{DATA_DIR / 'hub.db'}"
    db = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    if db["ENGINE"] == "django.db.backends.sqlite3":
        if db["NAME"] != ":memory:":
            try:
                Path(db["NAME"]).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            except OSError:
                pass  # reported when the database is opened
        db["CONN_MAX_AGE"] = 0 if db["NAME"] == ":memory:" else 60
        db["OPTIONS"] = {
            # WAL for concurrent readers; FULL so an answered write survives a power cut;
            # IMMEDIATE so writers queue on the busy timeout instead of failing on lock upgrade.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        }
    elif db["ENGINE"] == "django.db.backends.postgresql":
        db.setdefault("OPTIONS", {})
        db["OPTIONS"].setdefault("connect_timeout", 5)
    return db


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", "Tiếng Việt"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_TZ = True

STATIC_URL = "/static/"
# Only for `collectstatic` behind nginx; the hub itself serves the apps' static/ through WhiteNoise's finders.
STATIC_ROOT = os.environ.get("KIOSK_HUB_STATIC_ROOT") or None
WHITENOISE_USE_FINDERS = True  # serve straight from the apps' static/ without collectstatic (no CDN, no nginx needed)
WHITENOISE_AUTOREFRESH = False

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 8 * 3600
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Device API bounds: a body over this is refused with 413 before it is read.
HUB_MAX_BODY = 8 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = HUB_MAX_BODY
HUB_MAX_BATCH = 500
HUB_RETENTION_DAYS = int(os.environ.get("KIOSK_HUB_RETENTION_DAYS", "365"))
HUB_GATEWAY_ACCOUNT = os.environ.get("KIOSK_HUB_GATEWAY_ACCOUNT", "")
HUB_ELIGIBILITY_PER_MINUTE = int(os.environ.get("KIOSK_HUB_ELIGIBILITY_PER_MINUTE", "30"))
HUB_ROSTER_DIR = DATA_DIR / "roster"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"kv": {"format": "level=%(levelname)s logger=%(name)s %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "kv"}},
    "root": {"handlers": ["stderr"], "level": os.environ.get("KIOSK_HUB_LOG_LEVEL", "WARNING").upper()},
    # Django's request logger prints the path and status only; bodies never reach a log.
    "loggers": {"django.request": {"level": "ERROR"}, "django.security.DisallowedHost": {"level": "ERROR"}},
}
