"""The device API, contract sync/openapi/v1.json (1.2.0): the paths and semantics of the first hub,
plus facility binding, strict bodies, heartbeats and a rate-limited eligibility relay."""

from __future__ import annotations

import logging
import math
import re
from datetime import timedelta
from typing import Any, Callable

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from kiosk_hub.registry.models import Device

from . import body as jsonbody
from . import devices, gateway, heartbeat, roster, validate, writes
from .models import EligibilityLookup, RosterFile

log = logging.getLogger("kiosk_hub.api")

API_VERSION = "1"
CONTRACT_VERSION = "1.2.0"
PATHS = {"/v1/visits": "visit", "/v1/stay-notifications": "stay_notification", "/v1/audit-entries": "audit",
         "/v1/visit-updates": "visit_update"}


def answer(status: int, body: Any, headers: dict[str, str] | None = None) -> HttpResponse:
    r = HttpResponse(writes.canonical(body), status=status, content_type="application/json")
    for k, v in (headers or {}).items():
        r[k] = v
    return r


def error(status: int, code: str, detail: str, headers: dict[str, str] | None = None) -> HttpResponse:
    return answer(status, {"error": code, "detail": detail}, headers)


class _Refused(Exception):
    def __init__(self, response: HttpResponse):
        self.response = response


def _device(request: HttpRequest) -> Device:
    auth = request.META.get("HTTP_AUTHORIZATION", "")
    token = auth[7:].strip() if auth.startswith("Bearer ") else ""
    dev = devices.by_token(token) if token else None
    if dev is None:
        raise _Refused(error(401, "unauthorized", "a valid device bearer token is required (kiosk-hub enrol)",
                             {"WWW-Authenticate": 'Bearer realm="tramyte-hub"', "Connection": "close"}))
    if dev.revoked_at is not None:
        raise _Refused(error(403, "device_wipe_ordered" if dev.wipe_ordered else "device_revoked",
                             f"this device's token was revoked at {writes.iso(dev.revoked_at)}: {dev.revoke_reason}",
                             {"Connection": "close"}))
    return dev


def _body(request: HttpRequest) -> Any:
    try:
        n = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        n = -1
    if n < 0:
        raise _Refused(error(400, "malformed", "Content-Length is not a number", {"Connection": "close"}))
    if n > settings.HUB_MAX_BODY:
        raise _Refused(error(413, "too_large", f"the body is limited to {settings.HUB_MAX_BODY} bytes",
                             {"Connection": "close"}))
    raw = request.read(n) if n else b""
    try:
        return jsonbody.parse(raw)
    except jsonbody.Malformed as e:
        raise _Refused(error(400, "malformed", str(e)))


def api(methods: tuple[str, ...]) -> Callable:
    """Method check, refusals and store failures as JSON answers; the hub keeps serving whatever comes."""
    def wrap(view):
        @csrf_exempt
        def inner(request, *a, **kw):
            if request.method not in methods:
                return error(405, "method_not_allowed", f"use {' or '.join(methods)}", {"Allow": ", ".join(methods)})
            try:
                return view(request, *a, **kw)
            except _Refused as r:
                if r.response.get("Connection") == "close":
                    del r.response["Connection"]
                    request.META["kiosk_hub.close"] = True  # answered without reading the body: close
                return r.response
            except DatabaseError as e:
                log.error("event=hub_store_error error=%s path=%s", type(e).__name__, request.path)
                return error(503, "unavailable", "the hub's database failed; retry later", {"Retry-After": "2"})
        inner.__name__ = view.__name__
        return inner
    return wrap


@api(("GET", "HEAD"))
def health(request):
    try:
        with connection.cursor() as c:
            c.execute("SELECT 1")
        db = "ok"
    except DatabaseError:
        db = "unavailable"
    body = {"status": "ok" if db == "ok" else "unavailable", "api_version": API_VERSION,
            "contract_version": CONTRACT_VERSION, "database": db, "server_time": writes.iso(timezone.now())}
    return answer(200 if db == "ok" else 503, body)


def _key(request) -> str:
    key = (request.META.get("HTTP_IDEMPOTENCY_KEY") or "").strip()
    if not (1 <= len(key) <= 200) or not key.isascii() or not key.isprintable():
        raise _Refused(error(400, "idempotency_key_required",
                             "every write carries an Idempotency-Key header (1..200 printable ASCII characters)"))
    return key


def _log_write(dev: Device, path: str, results) -> None:
    new = sum(1 for s, _, rp in results if s == 201 and not rp)
    log.info("event=hub_write device=%s items=%d new=%d path=%s", dev.pk, len(results), new, path)


@api(("POST",))
def record(request):
    kind = PATHS[request.path]
    dev = _device(request)
    key = _key(request)
    body = _body(request)
    [(status, resp, replayed)] = writes.write_many(dev, [(kind, key, body)])
    _log_write(dev, request.path, [(status, resp, replayed)])
    return answer(status, resp, {"Idempotent-Replayed": "true"} if replayed else None)


def _batch_items(body: Any) -> list[tuple[str, str, Any]]:
    if not isinstance(body, dict) or not isinstance(body.get("items"), list):
        raise _Refused(error(400, "invalid", "expected {\"items\": [...]}"))
    items = body["items"]
    if not 1 <= len(items) <= settings.HUB_MAX_BATCH:
        raise _Refused(error(400, "invalid", f"a batch holds 1..{settings.HUB_MAX_BATCH} items"))
    out, seen = [], set()
    for i, it in enumerate(items):
        if not isinstance(it, dict) or not isinstance(it.get("kind"), str) \
                or not isinstance(it.get("idempotency_key"), str) \
                or not 1 <= len(it["idempotency_key"]) <= 200 or "body" not in it:
            raise _Refused(error(400, "invalid", f"items[{i}]: expected {{kind, idempotency_key, body}}"))
        if it["idempotency_key"] in seen:
            raise _Refused(error(400, "invalid", f"items[{i}]: idempotency_key repeated within the batch"))
        seen.add(it["idempotency_key"])
        out.append((it["kind"], it["idempotency_key"], it["body"]))
    return out


@api(("POST",))
def batch(request):
    dev = _device(request)
    _key(request)
    items = _batch_items(_body(request))
    results = writes.write_many(dev, items)
    _log_write(dev, request.path, results)
    return answer(200, {"results": [{"idempotency_key": k, "status": s, "body": r, "replayed": rp}
                                    for (_, k, _), (s, r, rp) in zip(items, results)]})


@api(("POST",))
def heartbeat_view(request):
    dev = _device(request)
    try:
        fields = heartbeat.parse(_body(request))
    except validate.Invalid as e:
        return error(400, "invalid", str(e))
    now = timezone.now()
    heartbeat.store(dev, fields, now)
    return answer(200, {"status": "ok", "received_at": writes.iso(now)})


@api(("GET",))
def roster_updates(request):
    _device(request)
    since = request.GET.get("since")
    if since is not None:
        if not re.fullmatch(r"-?[0-9]{1,18}", since, re.ASCII):
            return error(400, "invalid", "since: expected an integer version")
        since = int(since)
    return answer(200, roster.updates(since))


@api(("GET", "HEAD"))
def roster_file(request, file_id: int):
    _device(request)
    r = RosterFile.objects.filter(pk=file_id).first()
    path = roster.file_path(r) if r else None
    if r is None or not path.exists():
        return error(404, "not_found", f"no roster file {file_id}")
    size = path.stat().st_size
    try:
        rng = roster.parse_range(request.META.get("HTTP_RANGE"), size)
    except ValueError:
        return error(416, "range_not_satisfiable", f"the file has {size} bytes", {"Content-Range": f"bytes */{size}"})
    if rng and request.META.get("HTTP_IF_RANGE") not in (None, f'"{r.sha256}"'):
        rng = None
    start, end = rng if rng else (0, size - 1)
    length = max(0, end - start + 1)

    def chunks():
        with open(path, "rb") as f:
            f.seek(start)
            left = length
            while left > 0:
                chunk = f.read(min(left, 1 << 16))
                if not chunk:
                    break
                left -= len(chunk)
                yield chunk

    resp = StreamingHttpResponse([] if request.method == "HEAD" or size == 0 else chunks(), status=206 if rng else 200,
                                 content_type="application/gzip" if r.gzip else "application/x-ndjson")
    resp["Content-Length"] = str(length)
    resp["Accept-Ranges"] = "bytes"
    resp["ETag"] = f'"{r.sha256}"'
    if rng:
        resp["Content-Range"] = f"bytes {start}-{end}/{size}"
    return resp


def _rate_limited(dev: Device) -> int | None:
    """Seconds to wait when this device used its relay lookups for the last minute, else None."""
    per_minute = settings.HUB_ELIGIBILITY_PER_MINUTE
    since = timezone.now() - timedelta(seconds=60)
    recent = list(EligibilityLookup.objects.filter(device=dev, at__gt=since).order_by("-at")
                  .values_list("at", flat=True)[:per_minute])
    if len(recent) < per_minute:
        return None
    oldest = recent[-1]
    return max(1, math.ceil((oldest + timedelta(seconds=60) - timezone.now()).total_seconds()))


@api(("POST",))
def eligibility(request):
    dev = _device(request)
    body = _body(request)
    if not isinstance(body, dict):
        return error(400, "invalid", "expected a JSON object")
    gw = None
    try:
        gw = gateway.configured()
    except gateway.AccountError as e:
        log.error("event=relay_account_unusable error=%s", type(e).__name__)
    if gw is None:
        return error(503, "relay_not_configured",
                     "this hub has no national-gateway account configured; check against the roster")
    number_key = next((k for k in ("card_number", "id_number", "social_insurance_number")
                       if isinstance(body.get(k), str) and body[k].strip()), None)
    patterns = {"card_number": validate.CARD_RE, "id_number": validate.ID_NUMBER_RE,
                "social_insurance_number": validate.SOCIAL_RE}
    if number_key is None or not isinstance(body.get("full_name"), str) or not body["full_name"].strip():
        return error(400, "invalid", "expected card_number, id_number or social_insurance_number, "
                                     "and full_name (and date_of_birth)")
    try:
        number = validate.code(body, number_key, patterns[number_key], "an ASCII-digit number or card code")
        # The kiosk's relay client sends "" when it knows no birth date (sync/national_lookup.py HubRelay).
        birth = ("" if body.get("date_of_birth") == "" else
                 validate.day(body, "date_of_birth", validate.ISO_D_OR_YEAR, required=False) or "")
    except validate.Invalid as e:
        return error(400, "invalid", str(e))
    wait = _rate_limited(dev)
    if wait is not None:
        return error(429, "rate_limited", f"at most {settings.HUB_ELIGIBILITY_PER_MINUTE} lookups a minute per "
                                          "device; check against the roster meanwhile", {"Retry-After": str(wait)})
    try:
        got = gw.check(number, body["full_name"], birth)
    except gateway.GatewayFailed as e:
        EligibilityLookup.objects.create(device=dev, at=timezone.now(), result_code="error:gateway")
        log.warning("event=relay_failed device=%s", dev.pk)
        return error(502, "gateway_failed", str(e))
    EligibilityLookup.objects.create(device=dev, at=timezone.now(), result_code=got.result_code[:16])
    return answer(200, {"result_code": got.result_code, "gateway": got.body, "received_at": writes.iso(got.received_at),
                        "source": "gateway"})


@csrf_exempt
def not_found(request, rest: str = ""):
    return error(404, "not_found", f"no such resource: {request.path}")
