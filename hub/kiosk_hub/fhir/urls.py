from django.urls import path, re_path

from . import views

_ID = r"(?P<rid>[A-Za-z0-9\-\.]{1,64})"

urlpatterns = [
    path("metadata", views.metadata),
    re_path(rf"^CodeSystem/{_ID}$", views.codesystem, {"resource_type": "CodeSystem"}),
    re_path(r"^Encounter/?$", views.encounter_search, {"resource_type": "Encounter"}),
    re_path(rf"^(?P<resource_type>[A-Z][A-Za-z]{{1,39}})/{_ID}$", views.read),
]
