from django.urls import include, path
from django.views.generic import RedirectView

from kiosk_hub.dashboard.views import actions, devices, fleet, his, roster, stays, use

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="fleet", permanent=False), name="home"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("fleet/", fleet.fleet, name="fleet"),
    path("fleet/export.csv", fleet.fleet_csv, name="fleet_csv"),
    path("use/", use.use, name="use"),
    path("use/export.csv", use.use_csv, name="use_csv"),
    path("use/export.xlsx", use.use_xlsx, name="use_xlsx"),
    path("stays/", stays.stays, name="stays"),
    path("stays/export.csv", stays.stays_csv, name="stays_csv"),
    path("devices/", devices.devices, name="devices"),
    path("devices/enrol", devices.enrol, name="enrol"),
    path("devices/<int:pk>/", devices.device, name="device"),
    path("devices/<int:pk>/revoke", devices.revoke, name="revoke"),
    path("roster/", roster.roster, name="roster"),
    path("roster/upload", roster.upload, name="roster_upload"),
    path("actions/", actions.actions, name="actions"),
    path("his/", his.his, name="his"),
    path("his/add", his.his_add, name="his_add"),
    path("his/<int:pk>/revoke", his.his_revoke, name="his_revoke"),
]
