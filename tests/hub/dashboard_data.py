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


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


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
            open_stays=1 if name == "dien-kim-1" else 0,
            earliest_stay_deadline=(now + dt.timedelta(hours=5)) if name == "dien-kim-1" else None))
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
    # Stay notifications: overdue (27001), due within the hour (27011), open later, done on time, done late.
    def stay(dev, rec, deadline_in, state="received", sent_after=None, id_number=SECRET_ID):
        deadline = now + dt.timedelta(minutes=deadline_in)
        d = devices[dev]
        sent = None if sent_after is None else deadline + dt.timedelta(minutes=sent_after)
        StayNotification.objects.update_or_create(device=d, idempotency_key=f"stay-{rec}", defaults=dict(
            facility_id=d.facility_id, record_id=rec, started_at=deadline - dt.timedelta(hours=10),
            deadline_at=deadline, created_at=deadline - dt.timedelta(hours=9), state=state, sent_at=sent,
            payload={"notification_id": rec, "facility_code": d.facility_id, "full_name": SECRET_NAME,
                     "date_of_birth": "1995-01-01", "id_number": id_number, "reason": "điều trị",
                     "address_of_stay": "Trạm Y tế"},
            received_at=deadline - dt.timedelta(hours=9)))
    stay("dien-kim-1", 501, 30)                       # due within an hour
    stay("nghi-phong-1", 101, -90)                    # overdue by 1.5 h
    stay("quynh-luu-1", 701, 600)                     # open, later
    stay("quynh-luu-1", 702, -1440, "sent", -60)      # done on time
    stay("quynh-luu-1", 703, -2880, "sent", 30)       # done late
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
            u.set_password(PASSWORD)
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


def hub_env(tmp_path_factory):
    """In-process Django for the test-client tests: the hub's own settings on a migrated database
    (SQLite in a temp dir, or KIOSK_HUB_TEST_DATABASE_URL), seeded once per session."""
    import django.conf

    if not django.conf.settings.configured:
        setup_django(tmp_path_factory.mktemp("hub-dash"), os.environ.get("KIOSK_HUB_TEST_DATABASE_URL"))
    return seed()


if __name__ == "__main__":  # seed the database a live hub uses (env as for kiosk-hub)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kiosk_hub.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    seed()
    sys.exit(0)
