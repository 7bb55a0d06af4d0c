from django.apps import AppConfig

from kiosk_hub.ingest import signals


class FhirConfig(AppConfig):
    name = "kiosk_hub.fhir"
    label = "fhir"
    verbose_name = "FHIR R4"

    def ready(self) -> None:
        # push is imported here, not at the top: it imports models, which Django allows only once the apps
        # are loaded (ready() runs then). ingest announces the visits it stores; the push queue takes them.
        from . import push
        signals.visits_stored.connect(push.on_visits_stored, dispatch_uid="kiosk_hub.fhir.push")
