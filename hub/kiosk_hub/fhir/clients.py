"""HIS clients: add, revoke, look up by bearer token. The CLI (`kiosk-hub his …`) and the dashboard call these."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from kiosk_hub.registry import actions
from kiosk_hub.registry.models import Facility

from .models import HisClient


class ClientError(ValueError):
    """A refused registration (unknown facility, name taken)."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add(name: str, facility_codes: list[str], actor: str = "cli") -> tuple[HisClient, str]:
    """A new client for these facilities and its bearer token (shown once; only its hash is kept)."""
    codes = sorted(set(facility_codes))
    found = set(Facility.objects.filter(code__in=codes).values_list("code", flat=True))
    if not codes or found != set(codes):
        raise ClientError(f"unknown facility code(s): {', '.join(sorted(set(codes) - found)) or '(none given)'}")
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        if HisClient.objects.filter(name=name).exists():
            raise ClientError(f"a HIS client named {name!r} exists")
        client = HisClient.objects.create(name=name, token_hash=token_hash(token), created_at=timezone.now())
        client.facilities.set(codes)
        actions.record(actor, "his_add", name, facilities=codes)
    return client, token


def revoke(name: str, actor: str = "cli") -> HisClient:
    client = HisClient.objects.filter(name=name).first()
    if client is None:
        raise ClientError(f"no HIS client named {name!r}")
    if client.revoked_at is None:
        client.revoked_at = timezone.now()
        client.save(update_fields=["revoked_at"])
        actions.record(actor, "his_revoke", name)
    return client


def by_token(token: str) -> HisClient | None:
    if not token:
        return None
    return HisClient.objects.filter(token_hash=token_hash(token)).first()
