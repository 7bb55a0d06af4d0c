from importlib.util import find_spec

from django.urls import include, path

from kiosk_hub.ingest import health

urlpatterns = [
    path("healthz", health.healthz),
    path("readyz", health.readyz),
    path("v1/", include("kiosk_hub.ingest.urls")),
    path("fhir/R4/", include("kiosk_hub.fhir.urls")),
]

# The dashboard and accounts apps (another part of the hub) plug in here once they exist.
if find_spec("kiosk_hub.accounts.urls") is not None:
    urlpatterns.append(path("accounts/", include("kiosk_hub.accounts.urls")))
if find_spec("kiosk_hub.dashboard.urls") is not None:
    urlpatterns.append(path("", include("kiosk_hub.dashboard.urls")))
