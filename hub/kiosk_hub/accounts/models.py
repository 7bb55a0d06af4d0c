"""Dashboard accounts: Django users with one role each (docs/hub.md, "Accounts and roles")."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

PROVINCE_ADMIN = "province_admin"
DISTRICT_VIEWER = "district_viewer"
STATION = "station"


class Profile(models.Model):
    ROLES = [
        (PROVINCE_ADMIN, _("Province administrator")),
        (DISTRICT_VIEWER, _("District viewer")),
        (STATION, _("Station")),
    ]

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="hub_profile")
    role = models.CharField(max_length=20, choices=ROLES)
    # district_viewer: the district whose stations it sees; station: its facility.
    district_code = models.CharField(max_length=16, blank=True, default="")
    facility = models.ForeignKey("registry.Facility", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="profile_role_scope",
                condition=(models.Q(role=PROVINCE_ADMIN)
                           | (models.Q(role=DISTRICT_VIEWER) & ~models.Q(district_code=""))
                           | (models.Q(role=STATION) & models.Q(facility__isnull=False))),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user.get_username()} ({self.role})"
