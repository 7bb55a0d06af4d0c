"""Push check-ins to the stations' HIS: one FHIR `transaction` Bundle of PUTs per Encounter state, through a
per-endpoint queue in the database (docs/fhir.md, "Push").

- Ingest announces the visits and queue changes (contract 1.2.0 `visit_update`) it just stored, in the
  transaction that stores them (ingest.signals.visits_stored; FhirConfig.ready connects it to `enqueue`): a
  row per endpoint whose client serves the visit's facility. Nothing is queued for another facility's HIS,
  nor for a revoked client.
- The pusher (`kiosk-hub push run`, one process: a lock file in the data directory) sends each endpoint's
  queue in id order, one bundle per row, and deletes a row only once the HIS answered 2xx. A failure leaves
  the row at the head with exponential backoff (capped, jittered); endpoints are worked by separate threads,
  so a stuck HIS never holds up another. A repeat is harmless: every entry is a PUT by resource id.
- Every attempt is recorded in the FHIR access log (`fhir_access`, interaction "push"): client, Encounter id,
  status. No name or number.
"""

from __future__ import annotations

import fcntl
import ipaddress
import logging
import os
import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from django.db import close_old_connections, connection, transaction
from django.db.models import Count, Min, Q
from django.utils import timezone

from kiosk_hub.ingest.models import VisitChange

from . import builders, facts, links
from .builders.common import coverage_id, instant, patient_id
from .models import Access, PushEndpoint, PushItem

log = logging.getLogger(__name__)

BACKOFF_BASE = float(os.environ.get("KIOSK_HUB_PUSH_BACKOFF_BASE", "2"))     # seconds after the 1st failure
BACKOFF_CAP = float(os.environ.get("KIOSK_HUB_PUSH_BACKOFF_CAP", "300"))     # never longer than this
TIMEOUT = float(os.environ.get("KIOSK_HUB_PUSH_TIMEOUT", "30"))              # read timeout of one push
# A push that got no answer may still be on its way (held in the network) and arrive after a newer state: once
# it no longer can, the newest state pushed for that visit is sent again, so the HIS ends at it.
SETTLE = float(os.environ.get("KIOSK_HUB_PUSH_SETTLE", str(2 * TIMEOUT + 30)))
# The HIS refused the bundle itself: sending it again cannot help, so it is parked (kept, shown on the
# dashboard) and the queue moves on. Anything else (401/403/404/429/5xx, no answer) is retried.
PARK = frozenset({400, 412, 422})


class PushError(ValueError):
    """A refused endpoint registration (the URL)."""


# --- registration ---------------------------------------------------------------------------------------

def check_url(url: str) -> str:
    """A HIS's FHIR base URL: https://, or http:// to a loopback address only (tests, a HIS on the hub host)."""
    url = (url or "").strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise PushError(f"--push-url must be an https:// URL, got {url[:80]!r}")
    if parts.username or parts.password:
        raise PushError("--push-url must not carry credentials (use --push-token-file)")
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise PushError("--push-url must be https:// (plain http:// only to a loopback address)")
    return url


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def register(client, url: str, token: str = "") -> PushEndpoint:
    url = check_url(url)
    ep, _ = PushEndpoint.objects.update_or_create(
        client=client, defaults={"url": url, "token": token.strip(), "created_at": timezone.now()})
    return ep


def forget(client) -> int:
    """A revoked client: its pending pushes are dropped (nothing more leaves for it)."""
    return PushItem.objects.filter(endpoint__client=client).delete()[0]


# --- the queue ------------------------------------------------------------------------------------------

_FROM = """FROM {src} s
JOIN fhir_hisclient_facilities cf ON cf.facility_id = s.facility_id
JOIN fhir_pushendpoint e ON e.client_id = cf.hisclient_id
JOIN fhir_hisclient c ON c.id = e.client_id AND c.revoked_at IS NULL"""


def enqueue(visit_ids: list[int], change_ids: list[int] = ()) -> None:
    """Queue the pushes of records just stored, in the caller's transaction (ingest.writes): each new visit
    as it was sent, then each queue change (ingest.VisitChange) just stored or adopted by those visits, to every
    live endpoint serving the facility. One statement; none without records.

    A change is queued when it has its visit and was not overtaken by a newer change already held (`late`:
    pushed after the newer one it would leave the HIS at an old state); a visit's changes go in `seq` order,
    the order the receptionist made them."""
    visit_ids, change_ids = list(visit_ids), list(change_ids)
    if not visit_ids and not change_ids:
        return
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    parts, args = [], []
    if visit_ids:
        parts.append("SELECT e.id AS endpoint_id, s.id AS visit_id, CAST(NULL AS BIGINT) AS change_id, -1 AS seq "
                     + _FROM.format(src="ingest_visit") + f" WHERE s.id IN ({_marks(visit_ids)})")
        args += visit_ids
    where = []
    if change_ids:
        where.append(f"s.id IN ({_marks(change_ids)})")
        args += change_ids
    if visit_ids:                          # changes that came before their visit, adopted by it just now
        where.append(f"s.visit_id IN ({_marks(visit_ids)})")
        args += visit_ids
    parts.append("SELECT e.id AS endpoint_id, s.visit_id AS visit_id, s.id AS change_id, s.seq AS seq " + _FROM.format(src="ingest_visitchange")
                 + f" WHERE ({' OR '.join(where)}) AND s.visit_id IS NOT NULL AND s.late = FALSE")
    with connection.cursor() as c:
        c.execute("INSERT INTO fhir_pushitem (endpoint_id, visit_id, change_id, created_at, next_at, attempts, "
                  "dead, last_status, unsure, settle) SELECT q.endpoint_id, q.visit_id, q.change_id, %s, %s, 0, "
                  f"FALSE, 0, FALSE, FALSE FROM ({' UNION ALL '.join(parts)}) q "
                  "ORDER BY q.visit_id, q.seq, q.endpoint_id", [now, now, *args])


def on_visits_stored(sender, *, visit_ids: list[int], change_ids: list[int], **_) -> None:
    """The receiver of ingest.signals.visits_stored (connected in FhirConfig.ready)."""
    enqueue(visit_ids, change_ids)


def enqueue_for_visits(visit_ids: list[int]) -> None:
    enqueue(visit_ids, [])


def enqueue_for_changes(change_ids: list[int]) -> None:
    enqueue([], change_ids)


def _marks(values: list) -> str:
    return ", ".join(["%s"] * len(values))


# --- what is pushed -------------------------------------------------------------------------------------

def facts_of(visit, change=None) -> facts.VisitFacts:
    """The visit as the kiosk sent it (its payload, whatever queue state the hub holds now), or as it stood
    after `change`: every bundle shows the state of its own change, never a later one."""
    queue = None
    if change is not None:
        flags: dict[str, bool] = {}
        for got in VisitChange.objects.filter(visit_id=visit.pk, seq__lte=change.seq, late=False).values_list(
                "identity_flags", flat=True):
            flags.update({k: True for k, v in (got or {}).items() if v is True})   # a flag once raised stays
        queue = {"state_seq": change.seq, "state": change.state, "services": change.services,
                 "changed_at": change.changed_at, "updated_at": change.received_at, "identity_flags": flags}
    fac = visit.facility
    return facts.from_payload(
        pk=visit.pk, station=facts.Station(fac.code, fac.name, fac.district_code, fac.district_name,
                                           fac.province_code, fac.province_name),
        device=visit.device.name, record_id=visit.record_id, checked_in_at=visit.checked_in_at, day=visit.day,
        queue_number=visit.queue_number, received_at=visit.received_at, payload=visit.payload,
        purged=visit.purged_at is not None, queue=queue)


def bundle(f: facts.VisitFacts, base_url: str) -> dict:
    """A transaction Bundle: PUT Patient, Coverage, CoverageEligibilityResponse (those the visit has), then
    the Encounter, each by its id."""
    resources = [builders.patient(f), builders.coverage(f), builders.eligibility_response(f), builders.encounter(f)]
    entries = [{"fullUrl": f"{base_url}/{r['resourceType']}/{r['id']}", "resource": r,
                "request": {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}}
               for r in resources if r is not None]
    now = instant(timezone.now())
    return {"resourceType": "Bundle", "id": uuid.uuid4().hex, "meta": {"lastUpdated": now}, "type": "transaction",
            "timestamp": now, "entry": entries}


def _note(f: facts.VisitFacts) -> None:
    """The Patient/Coverage ids just sent can be read back at the hub by the same client."""
    pid, cid = patient_id(f), coverage_id(f)
    if f.purged or not pid:
        return
    emitted = [("Patient", pid, f.station.code, f.pk)]
    if cid:
        emitted.append(("Coverage", cid, f.station.code, f.pk))
    links.note(emitted)


# --- sending --------------------------------------------------------------------------------------------

def backoff(attempts: int, rng: random.Random = random.Random()) -> float:
    """Seconds before the next try after `attempts` failures: doubling from BACKOFF_BASE up to BACKOFF_CAP,
    with jitter (a random half to all of it), so endpoints that failed together do not retry together."""
    full = min(BACKOFF_CAP, BACKOFF_BASE * 2 ** max(0, attempts - 1))
    return full * (0.5 + 0.5 * rng.random())


@dataclass
class Outcome:
    ok: bool
    status: int          # HTTP status, 0: no answer
    error: str = ""
    retry_after: float = 0.0


def _send(session, ep: PushEndpoint, body: dict) -> Outcome:
    import requests   # deferred, as in session()
    headers = {"Content-Type": "application/fhir+json; charset=utf-8", "Accept": "application/fhir+json"}
    if ep.token:
        headers["Authorization"] = f"Bearer {ep.token}"
    try:
        r = session.post(ep.url + "/", json=body, headers=headers, timeout=(5, TIMEOUT), allow_redirects=False)
    except requests.Timeout:
        return Outcome(False, 0, "timeout")
    except requests.RequestException as e:
        return Outcome(False, 0, type(e).__name__)
    if not 200 <= r.status_code < 300:
        ra = r.headers.get("Retry-After", "")
        return Outcome(False, r.status_code, f"HTTP {r.status_code}",
                       float(ra) if ra.isdigit() else 0.0)
    try:  # a transaction-response whose entries all succeeded (a transaction is all or nothing)
        answer = r.json()
        bad = [e for e in answer.get("entry", []) if not str(e.get("response", {}).get("status", "2")).startswith("2")]
    except (ValueError, AttributeError):
        return Outcome(False, r.status_code, "answer is not a FHIR Bundle")
    if bad:
        return Outcome(False, r.status_code, "transaction-response with a failed entry")
    return Outcome(True, r.status_code)


def session():
    """An HTTP session for one endpoint. The proxy and CA settings of the environment are read once here, not
    on every request (requests does that per request when trust_env is on: a tenth of a push's cost)."""
    # Deferred: every hub process imports this module (FhirConfig.ready), and importing requests costs about
    # 75 ms, which each `kiosk-hub` command would pay; only the pusher sends.
    import requests
    s = requests.Session()
    s.trust_env = False
    s.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    return s


def push_endpoint(endpoint_id: int, http=None, budget: float = 10.0, limit: int = 1000) -> dict:
    """Send this endpoint's due queue, head first, until it is empty, the head fails or is not yet due, or
    `budget` seconds or `limit` bundles have gone by; and its due settle rows. Returns counts."""
    http = http or session()
    out = {"pushed": 0, "failed": 0, "parked": 0}
    start = time.monotonic()
    ep = PushEndpoint.objects.select_related("client").filter(pk=endpoint_id).first()
    if ep is None or ep.client.revoked:
        return out
    queue = PushItem.objects.filter(endpoint_id=ep.pk, dead=False).select_related(
        "visit__facility", "visit__device", "change").order_by("settle", "id")
    blocked = False
    while not blocked and time.monotonic() - start < budget and sum(out.values()) < limit:
        rows = list(queue[:50])             # the ordered queue first, then the settle rows
        if not rows:
            break
        sent = 0
        for item in rows:
            if item.settle:
                if item.next_at <= timezone.now():
                    _attempt(http, ep, item, out)
                    sent += 1
                continue
            if blocked or item.next_at > timezone.now():
                blocked = True             # the head waits for its backoff: nothing after it goes first
                continue
            sent += 1
            if not _attempt(http, ep, item, out):
                blocked = True
        if sent == 0 or len(rows) < 50:
            break
    return out


def _attempt(session, ep: PushEndpoint, item: PushItem, out: dict) -> bool:
    """One bundle for one queue row; True when the HIS took it or it was parked (the queue may move on)."""
    f = facts_of(item.visit, item.change)
    body = bundle(f, ep.url)
    res = _send(session, ep, body)
    now = timezone.now()
    enc_id = body["entry"][-1]["resource"]["id"]
    with transaction.atomic():
        Access.objects.create(client=ep.client, at=now, interaction="push", resource_type="Encounter",
                              resource_id=enc_id, params=f"attempt={item.attempts + 1}"
                              + (",settle" if item.settle else ""), status=res.status,
                              results=len(body["entry"]) if res.ok else 0)
        if res.ok:
            PushItem.objects.filter(pk=item.pk).delete()
            lag = int((now - item.created_at).total_seconds() * 1000)
            ep.pushed += 1
            PushEndpoint.objects.filter(pk=ep.pk).update(
                pushed=ep.pushed, last_ok_at=now, **({} if item.settle else {"last_lag_ms": lag}))
            if not item.settle:
                _after_push(ep, item, now)
            _note(f)
            out["pushed"] += 1
            return True
        item.attempts += 1
        item.last_status = res.status
        item.unsure = item.unsure or res.status == 0
        ep.failures += 1
        fields = {"failures": ep.failures, "last_failure_at": now, "last_error": res.error[:200]}
        if res.status in PARK:
            item.dead = True
            ep.parked += 1
            fields["parked"] = ep.parked
            out["parked"] += 1
        else:
            wait = min(BACKOFF_CAP, max(backoff(item.attempts), res.retry_after))
            item.next_at = now + timedelta(seconds=wait)
            out["failed"] += 1
        item.save(update_fields=["attempts", "last_status", "unsure", "dead", "next_at"])
        PushEndpoint.objects.filter(pk=ep.pk).update(**fields)
    log.warning("event=fhir_push_failed endpoint=%s status=%s error=%s attempts=%s%s", ep.pk, res.status,
                res.error, item.attempts, " parked" if item.dead else "")
    return item.dead


def _after_push(ep: PushEndpoint, item: PushItem, now: datetime) -> None:
    """Keep a visit's settle row (if any) at the newest state pushed; start one when this push had an attempt
    with no answer, due once that attempt's copy can no longer arrive."""
    settle = PushItem.objects.filter(endpoint_id=ep.pk, visit_id=item.visit_id, settle=True)
    if item.unsure:
        due = now + timedelta(seconds=SETTLE)
        if not settle.update(change_id=item.change_id, next_at=due):
            PushItem.objects.create(endpoint_id=ep.pk, visit_id=item.visit_id, change_id=item.change_id,
                                    created_at=now, next_at=due, settle=True)
    else:
        settle.update(change_id=item.change_id)


def due_endpoints() -> list[int]:
    """Endpoints of live clients with something due (a head not yet due is checked by push_endpoint)."""
    return list(PushItem.objects.filter(dead=False, next_at__lte=timezone.now(), endpoint__client__revoked_at=None)
                .values_list("endpoint_id", flat=True).distinct())


def push_once(budget: float = 10.0) -> dict:
    """Every due endpoint once, one after another (`kiosk-hub push once`; tests)."""
    total = {"endpoints": 0, "pushed": 0, "failed": 0, "parked": 0}
    with session() as s:
        for ep_id in due_endpoints():
            total["endpoints"] += 1
            for k, v in push_endpoint(ep_id, s, budget=budget).items():
                total[k] += v
    return total


def run(stop: threading.Event, interval: float = 0.5, threads: int = 8) -> None:
    """The pusher loop (`kiosk-hub push run`): every `interval` seconds, each due endpoint not already being
    worked goes to a thread of its own, so one slow or stuck HIS never delays the others."""
    busy: set[int] = set()
    lock = threading.Lock()
    sessions: dict[int, object] = {}

    def work(ep_id: int) -> None:
        try:
            s = sessions.setdefault(ep_id, session())
            push_endpoint(ep_id, s)
        except Exception:  # noqa: BLE001 - the loop must outlive one endpoint's trouble
            log.exception("event=fhir_push_error endpoint=%s", ep_id)
        finally:
            # the pool's threads keep their connection from task to task (a new one per endpoint was the
            # pusher's main cost under load); one that broke is dropped here and reopened on next use
            close_old_connections()
            with lock:
                busy.discard(ep_id)

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="push") as pool:
        while not stop.is_set():
            try:
                due = due_endpoints()
            except Exception:  # noqa: BLE001 - the database may be restarting; try again next tick
                log.warning("event=fhir_push_db_unavailable", exc_info=True)
                connection.close()
                due = []
            for ep_id in due:
                with lock:
                    if ep_id in busy:
                        continue
                    busy.add(ep_id)
                pool.submit(work, ep_id)
            stop.wait(interval)


class Locked(RuntimeError):
    pass


def single_pusher(data_dir: Path):
    """One pusher per hub (two would send one endpoint's queue out of order): an exclusive lock file."""
    data_dir.mkdir(parents=True, exist_ok=True)
    f = open(data_dir / "push.lock", "w")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.close()
        raise Locked(f"another pusher holds {data_dir / 'push.lock'}") from None
    return f


def status() -> list[dict]:
    """Per endpoint: what the dashboard and `kiosk-hub his list` show (no personal data)."""
    now = timezone.now()
    rows = []
    for ep in (PushEndpoint.objects.select_related("client")
               .annotate(pending=Count("items", filter=Q(items__dead=False, items__settle=False)),
                         dead=Count("items", filter=Q(items__dead=True)),
                         oldest=Min("items__created_at", filter=Q(items__dead=False, items__settle=False)))
               .order_by("client__name")):
        rows.append({"name": ep.client.name, "url": ep.url, "revoked": ep.client.revoked,
                     "facilities": sorted(ep.client.facilities.values_list("code", flat=True)),
                     "pending": ep.pending, "parked": ep.dead,
                     "lag_seconds": round((now - ep.oldest).total_seconds(), 1) if ep.oldest else 0.0,
                     "last_lag_ms": ep.last_lag_ms, "pushed": ep.pushed, "failures": ep.failures,
                     "last_ok_at": ep.last_ok_at, "last_failure_at": ep.last_failure_at, "last_error": ep.last_error})
    return rows
