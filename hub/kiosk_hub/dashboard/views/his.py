"""HIS endpoints (FHIR push, docs/fhir.md): each endpoint's lag and failures (province admins only)."""

from __future__ import annotations

from kiosk_hub.accounts.scope import role_required
from kiosk_hub.dashboard.views.common import page
from kiosk_hub.fhir import push

LAG_WARN_SECONDS = 300   # a queue older than this is shown as behind


@role_required(admin=True)
def his(request):
    rows = push.status()
    for r in rows:
        r["behind"] = r["lag_seconds"] > LAG_WARN_SECONDS or r["parked"] > 0
    return page(request, "dashboard/his.html", "his", rows=rows, warn=LAG_WARN_SECONDS)
