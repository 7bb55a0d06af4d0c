from __future__ import annotations

import json

from django.http import HttpResponse

CONTENT_TYPE = "application/fhir+json; charset=utf-8"


def fhir(resource: dict, status: int = 200, **headers: str) -> HttpResponse:
    r = HttpResponse(json.dumps(resource, ensure_ascii=False, separators=(",", ":")), status=status,
                     content_type=CONTENT_TYPE)
    for k, v in headers.items():
        r[k.replace("_", "-")] = v
    r["Cache-Control"] = "no-store"
    return r


_SEVERITY = {400: "error", 401: "error", 403: "error", 404: "error", 405: "error", 406: "error", 410: "error",
             500: "fatal", 503: "fatal"}
_CODE = {400: "invalid", 401: "login", 403: "forbidden", 404: "not-found", 405: "not-supported",
         406: "not-supported", 410: "deleted", 500: "exception", 503: "transient"}


def outcome(status: int, text: str, **headers: str) -> HttpResponse:
    """An OperationOutcome (the message says what and why, never whose data)."""
    return fhir({"resourceType": "OperationOutcome",
                 "issue": [{"severity": _SEVERITY.get(status, "error"), "code": _CODE.get(status, "processing"),
                            "diagnostics": text}]}, status, **headers)
