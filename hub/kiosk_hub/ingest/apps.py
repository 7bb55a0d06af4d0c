from django.apps import AppConfig


class IngestConfig(AppConfig):
    name = "kiosk_hub.ingest"
    label = "ingest"
    verbose_name = "Device API"
