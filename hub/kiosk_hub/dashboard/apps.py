from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "kiosk_hub.dashboard"
    label = "dashboard"
