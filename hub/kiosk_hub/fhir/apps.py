from django.apps import AppConfig


class FhirConfig(AppConfig):
    name = "kiosk_hub.fhir"
    label = "fhir"
    verbose_name = "FHIR R4"
