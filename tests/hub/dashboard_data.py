"""A small province for the dashboard tests: 3 districts, 6 stations, kiosks in every state,
reader use, stay notifications around their deadlines, and one account per role.

Used in-process (Django test client, `django_hub` below) and by the browser tests, which seed a live
hub's database through `kiosk-hub`'s own settings in a subprocess (`python -m tests.hub.dashboard_data`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import secrets
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

VN = ZoneInfo("Asia/Ho_Chi_Minh")
PASSWORD = "correct-horse-battery-9"
# An ID number that must never appear in clear on a page or in an export.
SECRET_ID = "001095001245"
SECRET_NAME = "Nguyễn Thị Bí Mật"

FACILITIES = [
    # code, name, district code, district name
    ("27001", "Trạm Y tế xã Nghi Phong", "401", "Huyện Nghi Lộc"),
    ("27002", "Trạm Y tế xã Nghi Xuân", "401", "Huyện Nghi Lộc"),
    ("27011", "Trạm Y tế xã Diễn Kim", "402", "Huyện Diễn Châu"),
    ("27012", "Trạm Y tế xã Diễn Hải", "402", "Huyện Diễn Châu"),
    ("27021", "Trạm Y tế xã Quỳnh Lưu", "403", "Huyện Quỳnh Lưu"),
    ("27022", "Trạm Y tế xã Quỳnh Bá", "403", "Huyện Quỳnh Lưu"),
]


ENGINES = ["sqlite", "postgres"]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


_hash: list[str] = []


def _password_hash() -> str:
    """PASSWORD hashed once per process (the hasher's work factor makes each hash cost a few tenths of a
    second, and every module seeds four accounts on each engine)."""
    if not _hash:
        from django.contrib.auth.hashers import make_password

        _hash.append(make_password(PASSWORD))
    return _hash[0]


def seed(now: dt.datetime | None = None) -> dict:
    """Write the province into the configured database (migrated). Returns names for the tests."""
    from django.contrib.auth.models import User

    from kiosk_hub.accounts.models import Profile
    from kiosk_hub.ingest.models import AuditEntry, DailyUse, StayNotification
    from kiosk_hub.registry.models import Device, DeviceStatus, Facility

    now = now or dt.datetime.now(dt.UTC)
    for code, name, dcode, dname in FACILITIES:
        Facility.objects.update_or_create(code=code, defaults=dict(
            name=name, district_code=dcode, district_name=dname, province_code="40", province_name="Nghệ An"))
    ok_parts = {"scanner": "ok", "chip": "ok", "camera": "ok", "printer": "ok"}
    kiosks = {
        # name: facility, minutes since heartbeat, parts, backlog, oldest unsent (min), roster age (days)
        "nghi-phong-1": ("27001", 2, ok_parts, 0, None, 1),
        "nghi-xuan-1": ("27002", 95, ok_parts, 3, 100, 1),                      # stale
        "dien-kim-1": ("27011", 3, {**ok_parts, "printer": "fault"}, 0, None, 1),  # faulty
        "dien-hai-1": ("27012", 4, ok_parts, 40, 180, 1),                       # lagging
        "quynh-luu-1": ("27021", 1, ok_parts, 0, None, 2),
        "quynh-ba-1": ("27022", 1, ok_parts, 0, None, 2),
    }
    # Stays the kiosks hold, not yet received by the hub (heartbeats): count, earliest deadline (minutes from now).
    # 27001 overdue by 1.5 h, 27011 due within the hour, 27002 later (its kiosk is stale), 27021 later still.
    open_stays = {"nghi-phong-1": (2, -90), "dien-kim-1": (1, 30), "nghi-xuan-1": (1, 300), "quynh-luu-1": (1, 600)}
    devices = {}
    for name, (fac, ago, parts, backlog, unsent, roster_age) in kiosks.items():
        d, _ = Device.objects.get_or_create(name=name, defaults=dict(
            facility_id=fac, token_hash=token_hash("seed-" + name), created_at=now - dt.timedelta(days=30)))
        d.last_seen_at = now - dt.timedelta(minutes=ago)
        d.save()
        DeviceStatus.objects.update_or_create(device=d, defaults=dict(
            received_at=now - dt.timedelta(minutes=ago), app_version="1.4.0", roster_version=7,
            roster_as_of=(now - dt.timedelta(days=roster_age)).date().isoformat(),
            outbox={"queued": backlog}, backlog=backlog,
            oldest_unsent_at=None if unsent is None else now - dt.timedelta(minutes=unsent),
            clock_synced=True, disk_free_mb=4000, devices=parts, visits_today={"chip": 3},
            open_stays=open_stays.get(name, (0, None))[0],
            earliest_stay_deadline=None if name not in open_stays else now + dt.timedelta(minutes=open_stays[name][1])))
        devices[name] = d
    # Reader use over the last 10 days. 27002 never used a reader (manual only); 27022 has no visits at all.
    today = now.astimezone(VN).date()
    use = {"27001": {"chip": 5, "cccd_qr": 3, "manual": 2}, "27002": {"manual": 4},
           "27011": {"bhyt_qr": 6, "mrz": 1, "manual": 1}, "27012": {"chip": 2, "unknown": 2},
           "27021": {"cccd_qr": 7}}
    for i in range(10):
        day = today - dt.timedelta(days=i)
        for fac, docs in use.items():
            for doc, n in docs.items():
                DailyUse.objects.update_or_create(facility_id=fac, day=day, document=doc, defaults={"visits": n})
    # Stay notifications the hub received (minutes from now): on time when received by the deadline.
    def stay(dev, rec, deadline_in, received_in, acknowledged=False, id_number=SECRET_ID):
        deadline = now + dt.timedelta(minutes=deadline_in)
        received = now + dt.timedelta(minutes=received_in)
        d = devices[dev]
        StayNotification.objects.update_or_create(device=d, idempotency_key=f"stay-{rec}", defaults=dict(
            facility_id=d.facility_id, record_id=rec, started_at=deadline - dt.timedelta(hours=10),
            deadline_at=deadline, created_at=received - dt.timedelta(minutes=5),
            state="acknowledged" if acknowledged else "received",
            acknowledged_at=received + dt.timedelta(minutes=5) if acknowledged else None,
            payload={"notification_id": rec, "facility_code": d.facility_id, "full_name": SECRET_NAME,
                     "date_of_birth": "1995-01-01", "id_number": id_number, "reason": "điều trị",
                     "address_of_stay": "Trạm Y tế"},
            received_at=received))
    stay("nghi-phong-1", 101, -180, -120)             # late by an hour
    stay("nghi-phong-1", 105, -300, -400)             # on time, its deadline passed, nothing else ever set
    stay("dien-kim-1", 501, 30, -60)                  # on time, deadline still ahead
    stay("dien-kim-1", 502, -240, -240)               # received at the deadline itself: on time
    stay("quynh-luu-1", 701, 600, -10)                # on time
    stay("quynh-luu-1", 702, -1440, -1500, True)      # on time (and a police acknowledgement recorded)
    stay("quynh-luu-1", 703, -2880, -2850)            # late by 30 min
    stay("quynh-luu-1", 704, -86400, -86280)          # late, 60 days ago: outside the default 30-day period
    for seq in range(1, 4):
        AuditEntry.objects.update_or_create(device=devices["nghi-phong-1"], seq=seq, defaults=dict(
            idempotency_key=f"audit-{seq}", entry_hash=hashlib.sha256(f"e{seq}".encode()).hexdigest(),
            prev_hash=hashlib.sha256(f"e{seq - 1}".encode()).hexdigest() if seq > 1 else "0" * 64,
            payload={"seq": seq}, received_at=now))
    users = {"admin": ("province_admin", "", None), "nghiloc": ("district_viewer", "401", None),
             "dienchau": ("district_viewer", "402", None), "tram27011": ("station", "", "27011")}
    for username, (role, district, fac) in users.items():
        u, created = User.objects.get_or_create(username=username)
        if created:
            u.password = _password_hash()
            u.save()
        Profile.objects.update_or_create(user=u, defaults=dict(role=role, district_code=district, facility_id=fac))
    return {"devices": {n: d.pk for n, d in devices.items()}, "today": today}


def setup_django(data_dir: Path, database_url: str | None = None) -> None:
    """Configure the hub's settings for this process (once), migrate."""
    os.environ.setdefault("KIOSK_HUB_DATA_DIR", str(data_dir))
    os.environ.setdefault("KIOSK_HUB_SECRET_KEY", secrets.token_urlsafe(32))
    os.environ.setdefault("KIOSK_HUB_DATABASE_URL", database_url or f"sqlite:///{data_dir / 'hub.db'}")
    os.environ["DJANGO_SETTINGS_MODULE"] = "kiosk_hub.settings"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)


def use_database(url: str, data_dir: Path | None = None) -> None:
    """Point this process's Django at another database (and data directory): the hub's own settings for
    that URL (`settings._database()`: SQLite pragmas, PostgreSQL options), every open connection closed."""
    from django.conf import settings
    from django.contrib.contenttypes.models import ContentType
    from django.db import connections

    from kiosk_hub import settings as hub_settings

    connections.close_all()
    saved = os.environ.get("KIOSK_HUB_DATABASE_URL")
    os.environ["KIOSK_HUB_DATABASE_URL"] = url
    try:
        cfg = hub_settings._database()
    finally:
        if saved is None:
            os.environ.pop("KIOSK_HUB_DATABASE_URL", None)
        else:
            os.environ["KIOSK_HUB_DATABASE_URL"] = saved
    connections.settings["default"] = cfg        # the same dict as settings.DATABASES
    connections.configure_settings(connections.settings)
    try:
        del connections["default"]               # this thread's connection object: made anew on next use
    except AttributeError:
        pass
    ContentType.objects.clear_cache()            # ids may differ between databases
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        settings.DATA_DIR = data_dir
        settings.HUB_ROSTER_DIR = data_dir / "roster"


def django_ready(tmp_path_factory) -> Path:
    """Django configured in this process, once per session: the hub's settings on a migrated, empty SQLite
    database, which is the template each module's SQLite copy starts from. Returns its path."""
    import django.conf

    if not django.conf.settings.configured:
        setup_django(tmp_path_factory.mktemp("hub-dash"))
    from django.db import connections

    connections.close_all()   # the WAL checkpointed into the file, so a copy is whole
    return Path(django.conf.settings.DATABASES["default"]["NAME"])


_template: dict[str, object] = {}
_names = iter(range(1_000_000))


def module_database(engine: str, request, tmp_path_factory) -> dict:
    """A seeded province on a database of its own for one test module, on `engine`; the process's Django
    points at it until the next call. SQLite: a copy of the migrated template file. PostgreSQL: a clone
    (CREATE DATABASE … TEMPLATE) of a database migrated once per session on the session's cluster
    (`pg_cluster` in tests/hub/conftest.py). Migrating once keeps the added time to a seed per module."""
    import shutil

    template = _template.get("sqlite") or django_ready(tmp_path_factory)
    _template["sqlite"] = template
    base = tmp_path_factory.mktemp(f"dash-{engine}")
    if engine == "sqlite":
        from django.db import connections

        connections.close_all()
        shutil.copyfile(template, base / "hub.db")
        os.chmod(base / "hub.db", 0o600)
        url = f"sqlite:///{base / 'hub.db'}"
    else:
        cluster = request.getfixturevalue("pg_cluster")
        if "postgres" not in _template:
            from django.core.management import call_command

            use_database(cluster.create_db("dash_template"))
            call_command("migrate", verbosity=0, interactive=False)
            _template["postgres"] = "dash_template"
        from django.db import connections

        connections.close_all()                   # nobody may be connected to a template being cloned
        url = cluster.create_db(f"dash_{os.getpid()}_{next(_names)}", template="dash_template")
    use_database(url, base / "data")
    return {**seed(), "engine": engine, "url": url}


if __name__ == "__main__":  # seed the database a live hub uses (env as for kiosk-hub)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kiosk_hub.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    seed()
    sys.exit(0)
