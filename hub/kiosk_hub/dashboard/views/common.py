"""Shared pieces of the dashboard views: rendering with the scope, filters, dates in Vietnam time."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from kiosk_hub.accounts.models import DISTRICT_VIEWER, PROVINCE_ADMIN, STATION

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def scope_label(scope) -> str:
    if scope is None:
        return ""
    if scope.role == PROVINCE_ADMIN:
        return _("province administrator")
    if scope.role == DISTRICT_VIEWER:
        return _("district %(code)s") % {"code": scope.district_code}
    if scope.role == STATION:
        return _("station %(code)s") % {"code": scope.facility_code}
    return ""


def page(request, template: str, nav: str, **ctx):
    scope = getattr(request, "scope", None)
    return render(request, template, {"nav": nav, "scope": scope, "scope_label": scope_label(scope), **ctx})


def vn_today() -> dt.date:
    return timezone.now().astimezone(VN).date()


def parse_date(text: str | None, default: dt.date) -> dt.date:
    """An ISO date from a query string; anything else falls back to the default (filters never 500)."""
    if not text:
        return default
    text = text.strip()
    if len(text) != 10 or not text.isascii():
        return default
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return default


def districts(scope) -> list[tuple[str, str]]:
    """(code, name) of the districts in scope, for the district filter."""
    rows = scope.facilities().values_list("district_code", "district_name").distinct().order_by("district_code")
    return list(dict.fromkeys(rows))


def choice(value: str | None, allowed, default: str) -> str:
    return value if value in allowed else default
