"""Pure functions from VisitFacts (fhir.facts) to FHIR R4 resources as JSON dicts."""

from __future__ import annotations

from .coverage import coverage
from .eligibility import eligibility_response
from .encounter import encounter
from .patient import patient
from .places import bhxh, district_location, province_location, station_location, station_organization

__all__ = ["bhxh", "coverage", "district_location", "eligibility_response", "encounter", "patient",
           "province_location", "station_location", "station_organization"]
