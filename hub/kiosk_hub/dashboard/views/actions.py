"""The admin log: every administrative action, from the CLI or the dashboard (province admins only)."""

from __future__ import annotations

from django.core.paginator import Paginator

from kiosk_hub.accounts.scope import role_required
from kiosk_hub.dashboard.views.common import page
from kiosk_hub.registry.models import AdminAction


@role_required(admin=True)
def actions(request):
    pg = Paginator(AdminAction.objects.order_by("-at", "-id"), 100).get_page(request.GET.get("page"))
    return page(request, "dashboard/actions.html", "actions", page_obj=pg)
