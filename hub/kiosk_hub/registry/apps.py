from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "kiosk_hub.registry"
    label = "registry"
    verbose_name = "Facilities and devices"
