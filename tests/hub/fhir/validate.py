"""Parse an emitted resource with both independent libraries: fhirclient's R4 (4.0.1) models in strict mode,
and fhir.resources' R4B models (pydantic; no extra fields, types and cardinality checked)."""

from __future__ import annotations

import importlib
import json

import pytest

pytest.importorskip("fhirclient")
pytest.importorskip("fhir.resources")


def parse_both(resource: dict):
    """(fhirclient object, fhir.resources object), or an exception naming what was wrong."""
    # through JSON text, as a HIS receives it
    data = json.loads(json.dumps(resource, ensure_ascii=False))
    rtype = data["resourceType"]
    module = rtype.lower()
    fc_cls = getattr(importlib.import_module(f"fhirclient.models.{module}"), rtype)
    fc = fc_cls(data, strict=True)
    fr_cls = getattr(importlib.import_module(f"fhir.resources.R4B.{module}"), rtype)
    fr = fr_cls.model_validate(data)
    # what fhirclient writes back is what was sent (nothing dropped or reshaped)
    assert fc.as_json() == data, rtype
    return fc, fr
