"""One way to record an administrative action, for the CLI and the dashboard alike."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from .models import AdminAction


def record(actor: str, action: str, target: str = "", **detail: Any) -> AdminAction:
    """Record who did what to which object. `detail` must hold no personal data (no names, no ID numbers)."""
    return AdminAction.objects.create(actor=str(actor)[:150], action=action, target=str(target)[:200],
                                      detail=detail, at=timezone.now())
