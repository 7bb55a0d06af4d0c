"""Checks a live hub's answers against the contract sync/openapi/v1.json: every answer's status must be
listed for its operation, and its JSON body must match the schema given for that status."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema

SPEC = json.loads((Path(__file__).resolve().parents[2] / "sync" / "openapi" / "v1.json").read_text())
_ROUTES = [(re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", p) + "$"), p) for p in SPEC["paths"]]
seen: set[tuple[str, str, int]] = set()   # (method, path template, status) checked this session


def schema(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}", "components": SPEC["components"]}


def validate(name: str, instance) -> None:
    jsonschema.Draft202012Validator(schema(name)).validate(instance)


def _resolve(s: dict) -> dict:
    return {**s, "components": SPEC["components"]}


def check(r) -> None:
    """`r`: a requests.Response from the hub. Raises AssertionError / ValidationError when off-contract."""
    method = r.request.method.lower()
    path = urlsplit(r.request.url).path
    template = next((t for rx, t in _ROUTES if rx.match(path)), None)
    if template is None or method not in SPEC["paths"][template]:
        assert r.status_code in (404, 405), f"{method} {path}: {r.status_code} for a path/method outside the contract"
        validate("Error", r.json())
        return
    op = SPEC["paths"][template][method]
    status = str(r.status_code)
    assert status in op["responses"], f"{method} {template}: status {status} is not in the contract"
    seen.add((method, template, r.status_code))
    content = op["responses"][status].get("content", {})
    if "application/json" in content and method != "head":
        jsonschema.Draft202012Validator(_resolve(content["application/json"]["schema"])).validate(r.json())
    elif r.headers.get("Content-Type", "").startswith("application/json") and method != "head":
        json.loads(r.content)  # at least JSON
