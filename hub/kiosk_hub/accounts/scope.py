"""What a signed-in user may see and do: every dashboard view and export goes through here.

Scoping is by facility: a province admin sees every facility, a district viewer the facilities
of its district, a station account its own facility. Querysets are filtered on the server; an
object outside the scope is a 404, an action above the role a 403.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet

from kiosk_hub.accounts.models import DISTRICT_VIEWER, PROVINCE_ADMIN, STATION, Profile
from kiosk_hub.registry.models import Facility


@dataclass(frozen=True)
class Scope:
    role: str
    district_code: str = ""
    facility_code: str = ""

    @property
    def is_admin(self) -> bool:
        return self.role == PROVINCE_ADMIN

    def facilities(self) -> QuerySet:
        return self.filter(Facility.objects.all(), "code", "district_code")

    def filter(self, qs: QuerySet, facility_field: str = "facility_id",
               district_field: str = "facility__district_code") -> QuerySet:
        """`qs` limited to this scope; `facility_field`/`district_field` name the lookups on its model."""
        if self.role == PROVINCE_ADMIN:
            return qs
        if self.role == DISTRICT_VIEWER:
            return qs.filter(**{district_field: self.district_code})
        if self.role == STATION:
            return qs.filter(**{facility_field: self.facility_code})
        return qs.none()


def scope_of(user) -> Scope | None:
    """The user's scope, or None when the account has no role (it sees nothing)."""
    if not user.is_authenticated or not user.is_active:
        return None
    try:
        profile = user.hub_profile
    except Profile.DoesNotExist:
        profile = None
    if profile is None:
        return Scope(PROVINCE_ADMIN) if user.is_superuser else None
    if profile.role == PROVINCE_ADMIN:
        return Scope(PROVINCE_ADMIN)
    if profile.role == DISTRICT_VIEWER and profile.district_code:
        return Scope(DISTRICT_VIEWER, district_code=profile.district_code)
    if profile.role == STATION and profile.facility_id:
        return Scope(STATION, facility_code=profile.facility_id)
    return None


def role_required(admin: bool = False):
    """Sign-in required; the view gets `request.scope`. `admin=True`: province admins only (403)."""

    def wrap(view):
        @wraps(view)
        def inner(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            scope = scope_of(request.user)
            if scope is None or (admin and not scope.is_admin):
                raise PermissionDenied
            request.scope = scope
            return view(request, *args, **kwargs)

        return inner

    return wrap
