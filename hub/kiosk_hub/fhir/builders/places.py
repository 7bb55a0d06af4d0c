"""The station as an Organization (the care provider) and a Location, inside its district and province
Locations (jurisdictions); and BHXH, the payor. Built from the registry's Facility row."""

from __future__ import annotations

from .. import systems

BHXH_ID = "bhxh"
BHXH_NAME = "Bảo hiểm xã hội Việt Nam"


def station_org_id(code: str) -> str:
    return f"station-{code}"


def station_location_id(code: str) -> str:
    return f"station-{code}"


def district_location_id(s) -> str:
    return f"district-{s.province_code}-{s.district_code}"


def province_location_id(s) -> str:
    return f"province-{s.province_code}"


def station_organization(s) -> dict:
    return {"resourceType": "Organization", "id": station_org_id(s.code),
            "identifier": [{"use": "official", "system": systems.FACILITY, "value": s.code}],
            "active": True,
            "type": [{"coding": [{"system": systems.ORG_TYPE, "code": "prov", "display": "Healthcare Provider"}],
                      "text": "Trạm y tế xã"}],
            "name": s.name,
            "address": [{"use": "work", "district": s.district_name, "state": s.province_name, "country": "VN"}]}


def station_location(s) -> dict:
    return {"resourceType": "Location", "id": station_location_id(s.code),
            "identifier": [{"system": systems.FACILITY, "value": s.code}],
            "status": "active", "name": s.name, "mode": "instance",
            "physicalType": {"coding": [{"system": systems.LOCATION_TYPE, "code": "si", "display": "Site"}]},
            "address": {"use": "work", "district": s.district_name, "state": s.province_name, "country": "VN"},
            "managingOrganization": {"reference": f"Organization/{station_org_id(s.code)}", "display": s.name},
            "partOf": {"reference": f"Location/{district_location_id(s)}", "display": s.district_name}}


def district_location(s) -> dict:
    return {"resourceType": "Location", "id": district_location_id(s),
            "identifier": [{"system": systems.DISTRICT, "value": s.district_code}],
            "status": "active", "name": s.district_name, "mode": "instance",
            "physicalType": {"coding": [{"system": systems.LOCATION_TYPE, "code": "jdn", "display": "Jurisdiction"}]},
            "address": {"district": s.district_name, "state": s.province_name, "country": "VN"},
            "partOf": {"reference": f"Location/{province_location_id(s)}", "display": s.province_name}}


def province_location(s) -> dict:
    return {"resourceType": "Location", "id": province_location_id(s),
            "identifier": [{"system": systems.PROVINCE, "value": s.province_code}],
            "status": "active", "name": s.province_name, "mode": "instance",
            "physicalType": {"coding": [{"system": systems.LOCATION_TYPE, "code": "jdn", "display": "Jurisdiction"}]},
            "address": {"state": s.province_name, "country": "VN"}}


def bhxh() -> dict:
    return {"resourceType": "Organization", "id": BHXH_ID, "active": True,
            "type": [{"coding": [{"system": systems.ORG_TYPE, "code": "pay", "display": "Payer"}]}],
            "name": BHXH_NAME, "alias": ["BHXH", "Vietnam Social Security"],
            "address": [{"country": "VN"}]}
