"""What the kiosks send: visits and their queue changes (VisitChange, contract 1.2.0), stay notifications, audit
copies; the idempotency record; roster files."""

from __future__ import annotations

from django.db import models

from kiosk_hub.registry.models import Device, Facility

DOCUMENTS = ("chip", "cccd_qr", "bhyt_qr", "mrz", "manual")


class Idempotency(models.Model):
    """The answer given to one (device, key): a replay gets it again, another body gets 422."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE)
    key = models.CharField(max_length=200)
    kind = models.CharField(max_length=32)
    request_hash = models.CharField(max_length=64)
    status = models.IntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["device", "key"], name="idempotency_device_key")]


class Visit(models.Model):
    device = models.ForeignKey(Device, on_delete=models.PROTECT)
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT)
    record_id = models.BigIntegerField()               # the kiosk's visit_id
    idempotency_key = models.CharField(max_length=200)
    document = models.CharField(max_length=16, null=True, blank=True)  # null: a kiosk before contract 1.1
    checked_in_at = models.DateTimeField()
    day = models.DateField()                            # the Vietnam-time visit date
    queue_number = models.IntegerField()
    eligibility_code = models.CharField(max_length=8, blank=True, default="")
    payload = models.JSONField()                        # as received; personal fields purged after retention
    purged_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField()
    # The queue, as the newest visit_update (contract 1.2.0) left it; see VisitChange. Database defaults, so
    # a visit written before any update (the hand-built INSERT in writes.py) reads "waiting", seq 0.
    state = models.CharField(max_length=16, default="waiting", db_default="waiting")
    state_seq = models.BigIntegerField(default=0, db_default=0)   # seq of the update applied; 0: none yet
    services = models.JSONField(null=True, blank=True)             # the update's services; null: the payload's
    state_changed_at = models.DateTimeField(null=True, blank=True)  # the kiosk's changed_at of that update
    updated_at = models.DateTimeField(null=True, blank=True)       # hub time of that update; null: received_at
    identity_flags = models.JSONField(null=True, blank=True)       # flags updates set ({flag: true}); added to the payload's

    class Meta:
        constraints = [models.UniqueConstraint(fields=["device", "idempotency_key"], name="visit_device_key")]
        indexes = [models.Index(fields=["facility", "day"], name="visit_facility_day"),
                   models.Index(fields=["day"], name="visit_day")]


class VisitChange(models.Model):
    """One `visit_update` record as received (contract 1.2.0): append-only, never updated but for `visit`.

    The kiosk numbers a visit's updates (`seq`, increasing per visit); the hub applies the highest seq it
    holds to the Visit (state, state_seq, services, state_changed_at, updated_at) and keeps every change here,
    including one that arrives after a newer one (`late`: it changed nothing). Ordered by `seq` per visit,
    these rows are the visit's state changes in the order the receptionist made them (the FHIR push reads
    them). `visit` is null while the hub holds no visit (device, record_id) yet; it is set, and the newest
    change applied, when the visit arrives. No personal data: state, service codes and times.
    """

    device = models.ForeignKey(Device, on_delete=models.PROTECT)
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT)
    record_id = models.BigIntegerField()               # the kiosk's visit_id
    visit = models.ForeignKey(Visit, null=True, blank=True, on_delete=models.CASCADE, related_name="changes")
    idempotency_key = models.CharField(max_length=200)
    seq = models.BigIntegerField()
    state = models.CharField(max_length=16)            # the kiosk's queue state after the change
    services = models.JSONField()                      # every service code of the visit after the change
    changed_at = models.DateTimeField()                # on the kiosk
    received_at = models.DateTimeField()
    late = models.BooleanField(default=False)          # a higher seq was already held when it arrived
    identity_flags = models.JSONField(null=True, blank=True)  # flags learnt after check-in ({"identity_mismatch": true})

    class Meta:
        constraints = [models.UniqueConstraint(fields=["device", "idempotency_key"], name="change_device_key")]
        indexes = [models.Index(fields=["device", "record_id", "seq"], name="change_device_record_seq"),
                   models.Index(fields=["visit", "seq"], name="change_visit_seq")]


class StayNotification(models.Model):
    STATES = ("received", "sent", "acknowledged")
    device = models.ForeignKey(Device, on_delete=models.PROTECT)
    facility = models.ForeignKey(Facility, on_delete=models.PROTECT)
    record_id = models.BigIntegerField()               # the kiosk's notification_id
    idempotency_key = models.CharField(max_length=200)
    started_at = models.DateTimeField()                 # stay_from
    deadline_at = models.DateTimeField()                # the legal deadline the kiosk computed
    created_at = models.DateTimeField()                 # raised on the kiosk
    state = models.CharField(max_length=16, default="received")
    sent_at = models.DateTimeField(null=True, blank=True)           # forwarded to the police system
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    payload = models.JSONField()
    purged_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["device", "idempotency_key"], name="stay_device_key")]
        indexes = [models.Index(fields=["facility", "deadline_at"], name="stay_facility_deadline"),
                   models.Index(fields=["state", "deadline_at"], name="stay_state_deadline")]


class AuditEntry(models.Model):
    """A copy of one entry of a kiosk's hash-chained audit trail (no personal data in it)."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE)
    idempotency_key = models.CharField(max_length=200)
    seq = models.BigIntegerField()
    entry_hash = models.CharField(max_length=64)
    prev_hash = models.CharField(max_length=64)
    payload = models.JSONField()
    received_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["device", "seq"], name="audit_device_seq"),
                       models.UniqueConstraint(fields=["device", "idempotency_key"], name="audit_device_key")]


class DailyUse(models.Model):
    """Visits per facility, day and document: upserted with each visit so the use page never scans visits."""

    facility = models.ForeignKey(Facility, on_delete=models.CASCADE)
    day = models.DateField()
    document = models.CharField(max_length=16)          # one of DOCUMENTS, or "unknown" for older kiosks
    visits = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["facility", "day", "document"], name="daily_use_unique")]
        indexes = [models.Index(fields=["day"], name="daily_use_day")]


class EligibilityLookup(models.Model):
    """One relayed eligibility lookup: which device, when, the answer's code. No identity is kept."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE)
    at = models.DateTimeField(db_index=True)
    result_code = models.CharField(max_length=16)      # the gateway's code, or "error:<kind>"

    class Meta:
        indexes = [models.Index(fields=["device", "at"], name="lookup_device_at")]


class RosterFile(models.Model):
    kind = models.CharField(max_length=8)               # snapshot | delta
    version = models.BigIntegerField()
    since = models.BigIntegerField(null=True)
    as_of = models.CharField(max_length=32, null=True, blank=True)
    filename = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64, unique=True)
    size = models.BigIntegerField()
    gzip = models.BooleanField(default=False)
    published_at = models.DateTimeField()

    class Meta:
        ordering = ["version", "id"]


class Counter(models.Model):
    name = models.CharField(primary_key=True, max_length=64)
    value = models.BigIntegerField(default=0)
