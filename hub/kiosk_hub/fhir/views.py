"""The FHIR R4 read and search API (docs/fhir.md). Every interaction is logged in models.Access."""

from __future__ import annotations

import functools
import logging
import uuid
from urllib.parse import urlencode

from django.db import DatabaseError
from django.db.models import Q
from django.utils import timezone
from django.utils.http import http_date

from kiosk_hub.ingest.models import Visit
from kiosk_hub.registry.models import Facility

from . import builders, clients, facts, ids, links, search, terminology
from .builders.common import coverage_id, patient_id
from .capability import capability_statement
from .models import Access, ResourceLink
from .responses import fhir, outcome

log = logging.getLogger(__name__)


def _log(request, client, interaction: str, status: int, resource_type: str = "", rid: str = "",
         results: int = 0) -> None:
    try:
        Access.objects.create(client=client, at=timezone.now(), interaction=interaction,
                              resource_type=resource_type[:40], resource_id=rid[:64],
                              params=",".join(sorted(set(request.GET)))[:200], status=status, results=results)
    except DatabaseError:
        log.warning("event=fhir_access_not_logged interaction=%s status=%s", interaction, status)
        raise


def fhir_view(interaction: str, auth: bool = True):
    """GET only; a bearer token of a live HIS client (unless `auth` is off); the answer and its log."""
    def wrap(view):
        @functools.wraps(view)
        def inner(request, *args, **kwargs):
            rtype, rid = kwargs.get("resource_type", ""), kwargs.get("rid", "")
            client = None
            header = request.META.get("HTTP_AUTHORIZATION", "")
            if header.startswith("Bearer "):
                client = clients.by_token(header[7:].strip())
            if request.method not in ("GET", "HEAD"):
                resp = outcome(405, "only read and search are offered here (GET)", Allow="GET")
            elif auth and client is None:
                resp = outcome(401, "a HIS client's bearer token is required", WWW_Authenticate='Bearer realm="fhir"')
            elif auth and client.revoked:
                resp = outcome(403, "this HIS client's token was revoked")
            else:
                try:
                    resp, results = view(request, client, *args, **kwargs)
                except search.BadSearch as e:
                    resp, results = outcome(400, str(e)), 0
                _log(request, client, interaction, resp.status_code, rtype, rid, results)
                return resp
            _log(request, client if client and not client.revoked else None, interaction, resp.status_code,
                 rtype, rid)
            return resp
        return inner
    return wrap


def _scope(client) -> set[str]:
    return set(client.facilities.values_list("code", flat=True))


def _visits():
    return Visit.objects.select_related("facility", "device")


# --- capabilities and terminology ------------------------------------------------------------------------

@fhir_view("capabilities", auth=False)
def metadata(request, client):
    return fhir(capability_statement(request.build_absolute_uri("/fhir/R4"))), 0


@fhir_view("read")
def codesystem(request, client, resource_type: str = "CodeSystem", rid: str = ""):
    res = terminology.codesystem_resource(rid)
    if res is None:
        return outcome(404, f"no CodeSystem {rid[:64]!r}"), 0
    return fhir(res), 1


# --- reads -------------------------------------------------------------------------------------------------

def _visit_resource(kind: str, rid: str, client, build):
    pk = ids.visit_pk(kind, rid)
    visit = _visits().filter(pk=pk).first() if pk else None
    if visit is None:
        return outcome(404, f"no {kind} {rid[:64]!r}"), 0
    if visit.facility_id not in _scope(client):
        return outcome(403, f"this {kind} belongs to a facility this client does not serve"), 0
    f = facts.of_visit(visit)
    res = build(f)
    if res is None:
        return outcome(410 if f.purged else 404, f"{kind} {rid[:64]!r} is not available"
                       + (" (personal data purged after the retention period)" if f.purged else "")), 0
    _note(f)
    return fhir(res, ETag=_etag(f), Last_Modified=_http_date(f)), 1


def _linked_resource(kind: str, rid: str, client, build, id_of):
    rows = list(ResourceLink.objects.filter(kind=kind, rid=rid[:64]).values_list("facility_id", "visit_id"))
    if not rows:
        return outcome(404, f"no {kind} {rid[:64]!r}"), 0
    scope = _scope(client)
    mine = [pk for fac, pk in rows if fac in scope]
    if not mine:
        return outcome(403, f"this {kind} is known only at facilities this client does not serve"), 0
    visit = _visits().filter(pk=max(mine)).first()
    f = facts.of_visit(visit) if visit else None
    res = build(f) if f else None
    if res is None or id_of(f) != rid:
        return outcome(410, f"{kind} {rid[:64]!r} is no longer available (personal data purged)"), 0
    return fhir(res, ETag=_etag(f), Last_Modified=_http_date(f)), 1


def _etag(f) -> str:
    return f'W/"{int(f.updated_at.timestamp())}"'


def _http_date(f) -> str:
    return http_date(f.updated_at.timestamp())


@fhir_view("read")
def read(request, client, resource_type: str, rid: str):
    if resource_type == "Encounter":
        return _visit_resource("Encounter", rid, client, builders.encounter)
    if resource_type == "CoverageEligibilityResponse":
        return _visit_resource("CoverageEligibilityResponse", rid, client, builders.eligibility_response)
    if resource_type == "Patient":
        return _linked_resource("Patient", rid, client, builders.patient, patient_id)
    if resource_type == "Coverage":
        return _linked_resource("Coverage", rid, client, builders.coverage, coverage_id)
    if resource_type in ("Organization", "Location"):
        res = _place(resource_type, rid)
        return (fhir(res), 1) if res else (outcome(404, f"no {resource_type} {rid[:64]!r}"), 0)
    return outcome(404, f"resource type {resource_type[:40]!r} is not served here"), 0


def _place(resource_type: str, rid: str) -> dict | None:
    if resource_type == "Organization" and rid == builders.places.BHXH_ID:
        return builders.bhxh()
    kind, _, rest = rid.partition("-")
    fac = None
    if kind == "station":
        fac = Facility.objects.filter(code=rest).first()
    elif kind == "district" and resource_type == "Location" and rest.count("-") == 1:
        prov, dist = rest.split("-")
        fac = Facility.objects.filter(province_code=prov, district_code=dist).first()
    elif kind == "province" and resource_type == "Location":
        fac = Facility.objects.filter(province_code=rest).first()
    if fac is None:
        return None
    st = facts.Station(fac.code, fac.name, fac.district_code, fac.district_name, fac.province_code,
                       fac.province_name)
    if kind == "station":
        return builders.station_organization(st) if resource_type == "Organization" else builders.station_location(st)
    return builders.district_location(st) if kind == "district" else builders.province_location(st)


def _note(*all_facts) -> None:
    emitted = []
    for f in all_facts:
        pid, cid = patient_id(f), coverage_id(f)
        if f.purged:
            continue
        if pid:
            emitted.append(("Patient", pid, f.station.code, f.pk))
        if cid and pid:
            emitted.append(("Coverage", cid, f.station.code, f.pk))
    links.note(emitted)


# --- search --------------------------------------------------------------------------------------------------

def encounter_queryset(q: search.EncounterQuery, facilities: set[str]):
    """The visits an Encounter search matches: (facility, day) first, so the visit_facility_day index serves it."""
    qs = Visit.objects.filter(facility_id__in=sorted(facilities))
    if q.day_from and q.day_from == q.day_to:
        qs = qs.filter(day=q.day_from)
    else:
        if q.day_from:
            qs = qs.filter(day__gte=q.day_from)
        if q.day_to:
            qs = qs.filter(day__lte=q.day_to)
    # meta.lastUpdated is the later of the visit's arrival and its newest queue update (contract 1.2.0)
    if q.updated_from:
        qs = qs.filter(Q(received_at__gte=q.updated_from) | Q(updated_at__gte=q.updated_from))
    if q.updated_before:
        qs = qs.filter(Q(received_at__lt=q.updated_before),
                       Q(updated_at__isnull=True) | Q(updated_at__lt=q.updated_before))
    return qs


def page_of(qs, q: search.EncounterQuery):
    return qs.select_related("facility", "device").order_by("day", "id")[q.offset:q.offset + q.count]


@fhir_view("search-type")
def encounter_search(request, client, resource_type: str = "Encounter"):
    q = search.parse_encounter(request.GET)
    scope = _scope(client)
    wanted = scope if q.facilities is None else scope & q.facilities   # another facility's: simply not there
    qs = encounter_queryset(q, wanted)
    total = qs.count() if wanted else 0
    rows = list(page_of(qs, q)) if wanted and q.count else []
    all_facts = [facts.of_visit(v) for v in rows]
    base = request.build_absolute_uri(request.path)
    entries = [{"fullUrl": f"{base.rsplit('/', 1)[0]}/Encounter/{e['id']}", "resource": e,
                "search": {"mode": "match"}} for e in map(builders.encounter, all_facts)]
    if q.include_patient:
        seen = set()
        for f in all_facts:
            p = builders.patient(f)
            if p and p["id"] not in seen:
                seen.add(p["id"])
                entries.append({"fullUrl": f"{base.rsplit('/', 1)[0]}/Patient/{p['id']}", "resource": p,
                                "search": {"mode": "include"}})
    _note(*all_facts)

    def page(offset: int) -> str:
        params = [(k, v) for k in request.GET for v in request.GET.getlist(k) if k not in ("_offset", "_count")]
        return f"{base}?{urlencode(params + [('_count', q.count), ('_offset', offset)])}"

    link = [{"relation": "self", "url": page(q.offset)}]
    if q.count and q.offset + q.count < total:
        link.append({"relation": "next", "url": page(q.offset + q.count)})
    if q.offset > 0 and q.count:
        link.append({"relation": "previous", "url": page(max(0, q.offset - q.count))})
    bundle = {"resourceType": "Bundle", "id": uuid.uuid4().hex,
              "meta": {"lastUpdated": builders.common.instant(timezone.now())},
              "type": "searchset", "total": total, "link": link, "entry": entries}
    if not entries:
        del bundle["entry"]
    return fhir(bundle), len(rows)
