"""HIS clients (bearer credentials scoped to facilities), the ids the hub has handed out for people and cards,
and the log of every FHIR read (no identity in it: resource ids are opaque)."""

from __future__ import annotations

from django.db import models

from kiosk_hub.ingest.models import Visit, VisitChange
from kiosk_hub.registry.models import Facility


class HisClient(models.Model):
    """A station's medical software. Only the SHA-256 of its bearer token is kept; the token is shown once."""

    name = models.CharField(max_length=120, unique=True)
    token_hash = models.CharField(max_length=64, unique=True)
    facilities = models.ManyToManyField(Facility, related_name="his_clients")
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


class ResourceLink(models.Model):
    """Which visit a person- or card-level id (Patient, Coverage) was last emitted from, per facility.

    Those ids are keyed hashes of the person's or card's number (fhir.ids), so a read needs this to find the
    data again; a row is written whenever the resource is emitted. One row per (kind, id, facility): a read is
    allowed when the id has a row at one of the client's facilities."""

    kind = models.CharField(max_length=16)              # "Patient" | "Coverage"
    rid = models.CharField(max_length=64)
    facility = models.ForeignKey(Facility, on_delete=models.CASCADE)
    visit = models.ForeignKey(Visit, on_delete=models.CASCADE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "rid", "facility"], name="fhir_link_unique")]


class Access(models.Model):
    """One FHIR interaction by a HIS client: what kind, which resource type and opaque id, the answer. The search
    parameters' names only (never their values), so nothing here identifies a person."""

    client = models.ForeignKey(HisClient, on_delete=models.CASCADE, null=True)
    at = models.DateTimeField(db_index=True)
    interaction = models.CharField(max_length=24)      # read | search-type | capabilities
    resource_type = models.CharField(max_length=40, blank=True, default="")
    resource_id = models.CharField(max_length=64, blank=True, default="")
    params = models.CharField(max_length=200, blank=True, default="")
    status = models.IntegerField()
    results = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["client", "at"], name="fhir_access_client_at")]


class PushEndpoint(models.Model):
    """Where a HIS client takes pushed check-ins: its FHIR base URL (HTTPS, or loopback) and the bearer token the
    hub sends it (the HIS's credential, not the client's own hub token). The counters feed the dashboard."""

    client = models.OneToOneField(HisClient, on_delete=models.CASCADE, related_name="push")
    url = models.CharField(max_length=500)
    token = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField()
    pushed = models.BigIntegerField(default=0)          # bundles the HIS accepted
    failures = models.BigIntegerField(default=0)        # failed attempts, all time
    parked = models.BigIntegerField(default=0)          # bundles the HIS refused for good (4xx), set aside
    last_ok_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True, default="")   # never personal data
    last_lag_ms = models.BigIntegerField(null=True, blank=True)  # hub receipt -> HIS acceptance, last push


class PushItem(models.Model):
    """One Encounter state to push to one endpoint, in id order per endpoint (one bundle per change: nothing is
    coalesced, so the HIS sees every state). `change` is the queue change (ingest.VisitChange) whose state is
    pushed; null means the visit as the kiosk sent it. Rows are deleted once the HIS accepted them; a parked
    row stays (dead) for the dashboard."""

    endpoint = models.ForeignKey(PushEndpoint, on_delete=models.CASCADE, related_name="items")
    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="+")
    change = models.ForeignKey(VisitChange, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()
    next_at = models.DateTimeField()
    attempts = models.IntegerField(default=0)
    dead = models.BooleanField(default=False)
    last_status = models.IntegerField(default=0)        # HTTP status of the last attempt, 0: no answer
    unsure = models.BooleanField(default=False)         # an attempt got no answer: a copy may still be on its way
    # A settle row repeats the newest state pushed for a visit once a copy whose fate was unknown can no longer
    # arrive (fhir.push.SETTLE): outside the ordered queue, so it never holds it up.
    settle = models.BooleanField(default=False)

    class Meta:
        indexes = [models.Index(fields=["endpoint", "dead", "settle", "id"], name="fhir_push_queue")]
