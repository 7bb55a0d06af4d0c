"""URIs: VN Core's where the guide documents one, else the project's own namespace (docs/fhir.md lists them)."""

from __future__ import annotations

# VN Core FHIR IG (community draft, R4 4.0.1) NamingSystems.
VN_CCCD = "http://fhir.hl7.org.vn/core/sid/cccd"      # 12-digit personal identification number
VN_BHYT = "http://fhir.hl7.org.vn/core/sid/bhyt"      # BHYT card number, any of its three formats

# The project's namespace: not resolvable, documented in docs/fhir.md. Replace a system by VN Core's once the
# guide's URI for it is confirmed (an HIS matches on system + value).
NS = "urn:tramyte-kiosk:fhir"
CMND = f"{NS}:sid:cmnd"                      # the old 9-digit ID card number
BHXH = f"{NS}:sid:bhxh"                      # the 10-digit social-insurance number
PASSPORT = f"{NS}:sid:passport"              # + ":" + ISO 3166 alpha-3 nationality when known
FACILITY = f"{NS}:sid:facility"              # 5-digit BHYT facility code (KCB code)
DISTRICT = f"{NS}:sid:district"
PROVINCE = f"{NS}:sid:province"
DEVICE = f"{NS}:sid:device"                  # a kiosk's enrolled name
VISIT = f"{NS}:sid:visit"                    # facility code / device name / the kiosk's visit id
QUEUE = f"{NS}:sid:queue-number"             # per station and day (the identifier's period says which day)


def codesystem(name: str) -> str:
    return f"{NS}:cs:{name}"


def extension(name: str) -> str:
    return f"{NS}:ext:{name}"


# HL7 terminology used as is.
V3_ACTCODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
COVERAGE_CLASS = "http://terminology.hl7.org/CodeSystem/coverage-class"
COPAY_TYPE = "http://terminology.hl7.org/CodeSystem/coverage-copay-type"
ORG_TYPE = "http://terminology.hl7.org/CodeSystem/organization-type"
LOCATION_TYPE = "http://terminology.hl7.org/CodeSystem/location-physical-type"
UCUM = "http://unitsofmeasure.org"
