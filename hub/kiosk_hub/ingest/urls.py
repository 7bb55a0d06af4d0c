from django.urls import path, re_path

from . import views

urlpatterns = [
    path("health", views.health),
    path("visits", views.record),
    path("stay-notifications", views.record),
    path("audit-entries", views.record),
    path("visit-updates", views.record),
    path("batch", views.batch),
    path("heartbeat", views.heartbeat_view),
    path("roster/updates", views.roster_updates),
    path("roster/files/<int:file_id>", views.roster_file),
    path("eligibility", views.eligibility),
    re_path(r"^(?P<rest>.*)$", views.not_found),
]
