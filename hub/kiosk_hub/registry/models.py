"""The registry: facilities (code → name, district, province), enrolled devices, their latest state."""

from __future__ import annotations

from django.db import models


class Facility(models.Model):
    code = models.CharField(primary_key=True, max_length=16)
    name = models.CharField(max_length=200)
    district_code = models.CharField(max_length=16, db_index=True)
    district_name = models.CharField(max_length=200)
    province_code = models.CharField(max_length=16, db_index=True)
    province_name = models.CharField(max_length=200)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Device(models.Model):
    """An enrolled kiosk. Only the SHA-256 of its bearer token is stored; the token is shown once."""

    name = models.CharField(max_length=120, unique=True)
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT, related_name="devices")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoke_reason = models.TextField(blank=True, default="")
    wipe_ordered = models.BooleanField(default=False)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


DEVICE_STATES = ("ok", "absent", "fault")


class DeviceStatus(models.Model):
    """The latest heartbeat of a device (one row per device, overwritten): no personal data."""

    device = models.OneToOneField(Device, on_delete=models.CASCADE, primary_key=True, related_name="status")
    received_at = models.DateTimeField()
    app_version = models.CharField(max_length=64, blank=True, default="")
    roster_version = models.BigIntegerField(null=True)
    roster_as_of = models.CharField(max_length=32, null=True)
    outbox = models.JSONField(default=dict)            # {"queued": n, "sent": n, ...}
    backlog = models.IntegerField(default=0)           # outbox entries not yet acknowledged
    oldest_unsent_at = models.DateTimeField(null=True)
    clock_synced = models.BooleanField(null=True)
    disk_free_mb = models.BigIntegerField(null=True)
    devices = models.JSONField(default=dict)           # {"scanner": "ok"|"absent"|"fault", ...}
    visits_today = models.JSONField(default=dict)      # {"chip": n, "cccd_qr": n, ...}
    open_stays = models.IntegerField(default=0)
    earliest_stay_deadline = models.DateTimeField(null=True)


class HeartbeatDay(models.Model):
    """Heartbeats aggregated per device and Vietnam day: the history the hub keeps of them."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="heartbeat_days")
    date = models.DateField()
    count = models.IntegerField(default=0)
    worst_backlog = models.IntegerField(default=0)
    min_disk_free_mb = models.BigIntegerField(null=True)
    fault_count = models.IntegerField(default=0)        # heartbeats reporting any device in fault
    clock_unsynced_count = models.IntegerField(default=0)
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["device", "date"], name="heartbeat_day_unique")]


class AdminAction(models.Model):
    """Every administrative action, from the CLI or the dashboard (registry.actions.record)."""

    actor = models.CharField(max_length=150)       # "cli:root", or a dashboard user name
    action = models.CharField(max_length=64, db_index=True)
    target = models.CharField(max_length=200, blank=True, default="")
    detail = models.JSONField(default=dict)
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
