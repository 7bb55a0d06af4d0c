"""Stay notifications (the province's "check and urge" duty): what is still to be made, what was made late.

What the hub can know decides what "on time" means here. A kiosk raises a notification and sends it to
the hub; the hub's 201 is what the kiosk records as `acknowledged`. A notification submitted by hand
(VNeID, the police portal) is recorded on the kiosk as `receipt_recorded` and never reaches the hub. The
hub has no link to the police system, so nothing sets `sent_at`/`acknowledged_at` today. Hence:

- a notification is *made* when the hub received it (`received_at`); *on time* when
  `received_at <= deadline_at`, *late* otherwise;
- notifications not yet made are the ones the kiosks still hold: `open_stays` and
  `earliest_stay_deadline` of each kiosk's latest heartbeat (`DeviceStatus`), summed per station;
- `acknowledged_at` is kept for a future police-system integration: shown when set, never relied on.
"""

from __future__ import annotations

import csv
import datetime as dt
import math

from django.core.paginator import Paginator
from django.db.models import Case, Count, F, IntegerField, Max, Min, Q, Sum, Value, When
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from kiosk_hub.accounts.scope import role_required
from kiosk_hub.dashboard.masking import mask_id
from kiosk_hub.dashboard.views.common import VN, choice, districts, page, parse_date, vn_today
from kiosk_hub.dashboard.views.fleet import STALE_AFTER
from kiosk_hub.ingest.models import StayNotification
from kiosk_hub.registry.models import DeviceStatus, Facility

SOON = dt.timedelta(hours=1)
DEFAULT_DAYS = 30
MAX_DAYS = 731
FILTERS = {"late": gettext_lazy("Received late"), "on_time": gettext_lazy("Received on time")}
URGENCY = ("overdue", "due-soon", "open")
LATE = Q(received_at__gt=F("deadline_at"))


class Query:
    """The page's parameters, validated: received between two Vietnam dates (inclusive), district, which."""

    def __init__(self, request):
        g = request.GET
        self.end = parse_date(g.get("end"), vn_today())
        self.start = parse_date(g.get("start"), self.end - dt.timedelta(days=DEFAULT_DAYS - 1))
        if self.start > self.end:
            self.start, self.end = self.end, self.start
        if (self.end - self.start).days > MAX_DAYS:
            self.start = self.end - dt.timedelta(days=MAX_DAYS)
        allowed = {code for code, _n in districts(request.scope)}
        d = g.get("district", "")
        self.district = d if d in allowed else ""
        self.which = choice(g.get("which"), FILTERS, "")
        self.scope = request.scope

    def params(self) -> str:
        return f"start={self.start.isoformat()}&end={self.end.isoformat()}&district={self.district}&which={self.which}"

    def window(self) -> tuple[dt.datetime, dt.datetime]:
        """[start 00:00, the day after end 00:00) in Vietnam time."""
        return (dt.datetime.combine(self.start, dt.time(), VN),
                dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), VN))

    def received(self):
        """Notifications received in the period, in scope (before the late/on-time filter)."""
        lo, hi = self.window()
        qs = self.scope.filter(StayNotification.objects.filter(received_at__gte=lo, received_at__lt=hi))
        if self.district:
            qs = qs.filter(facility__district_code=self.district)
        return qs

    def listed(self):
        """The list: late ones first, then on time; the most recently received first in each."""
        qs = self.received()
        if self.which == "late":
            qs = qs.filter(LATE)
        elif self.which == "on_time":
            qs = qs.exclude(LATE)
        return qs.select_related("facility", "device").annotate(
            is_late=Case(When(LATE, then=Value(1)), default=Value(0), output_field=IntegerField()),
        ).order_by("-is_late", "-received_at", "-id")


def urgency(deadline: dt.datetime | None, now: dt.datetime) -> str:
    if deadline is None:
        return "open"
    if deadline < now:
        return "overdue"
    return "due-soon" if deadline < now + SOON else "open"


def open_by_station(scope, now: dt.datetime, district: str = "") -> list[dict]:
    """Stays the kiosks hold, not yet received by the hub, per station (its live kiosks' latest heartbeats):
    overdue first, then due within the hour, then the rest, each by earliest deadline."""
    qs = scope.filter(DeviceStatus.objects.filter(device__revoked_at__isnull=True, open_stays__gt=0),
                      "device__facility_id", "device__facility__district_code")
    if district:
        qs = qs.filter(device__facility__district_code=district)
    agg = list(qs.values("device__facility_id").annotate(
        open_stays=Sum("open_stays"), earliest=Min("earliest_stay_deadline"), kiosks=Count("device"),
        oldest_heartbeat=Min("received_at"), newest_heartbeat=Max("received_at")))
    facilities = Facility.objects.in_bulk([a["device__facility_id"] for a in agg])
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    out = []
    for a in agg:
        u = urgency(a["earliest"], now)
        out.append({**a, "facility": facilities[a["device__facility_id"]], "urgency": u,
                    "stale": now - a["oldest_heartbeat"] > STALE_AFTER})
    out.sort(key=lambda r: (URGENCY.index(r["urgency"]), r["earliest"] or far, r["facility"].code))
    return out


def station_rates(q: Query) -> list[dict]:
    """Per station, over the period: received, received on time, late, on-time rate; the worst rate first."""
    agg = list(q.received().values("facility_id").annotate(
        received=Count("id"), late=Count("id", filter=LATE)))
    facilities = Facility.objects.in_bulk([a["facility_id"] for a in agg])
    out = []
    for a in agg:
        on_time = a["received"] - a["late"]
        out.append({**a, "facility": facilities[a["facility_id"]], "on_time": on_time,
                    "rate": 100.0 * on_time / a["received"]})
    out.sort(key=lambda r: (r["rate"], r["facility"].district_code, r["facility"].code))
    return out


def _id_of(payload) -> str:
    if not isinstance(payload, dict):
        return ""
    return mask_id(payload.get("id_number") or payload.get("passport_number") or "")


@role_required()
def stays(request):
    now = timezone.now()
    q = Query(request)
    waiting = open_by_station(request.scope, now, q.district)
    pg = Paginator(q.listed(), 100).get_page(request.GET.get("page"))
    rows = [{"n": n, "masked_id": _id_of(n.payload), "late": bool(n.is_late)} for n in pg.object_list]
    rates = station_rates(q)
    received = sum(r["received"] for r in rates)
    late = sum(r["late"] for r in rates)
    totals = {"open_stays": sum(w["open_stays"] for w in waiting),
              "overdue": sum(1 for w in waiting if w["urgency"] == "overdue"),
              "due_soon": sum(1 for w in waiting if w["urgency"] == "due-soon"),
              "received": received, "late": late}
    return page(request, "dashboard/stays.html", "stays", waiting=waiting, rows=rows, page_obj=pg, rates=rates,
                totals=totals, rate=(100.0 * (received - late) / received) if received else None, q=q,
                filters=FILTERS, districts=districts(request.scope), now=now)


@role_required()
def stays_csv(request):
    """The received notifications of the page's period and filters, with their deadline, received time and
    on-time flag. No personal data: no names, no ID numbers."""
    q = Query(request)
    resp = HttpResponse(content_type="text/csv; charset=utf-8")
    resp["Content-Disposition"] = 'attachment; filename="stay-notifications.csv"'
    resp.write("\ufeff")
    w = csv.writer(resp)
    w.writerow(["device", "record_id", "facility_code", "district", "started_at", "deadline_at", "received_at",
                "on_time", "minutes_late", "acknowledged_at"])
    for n in q.listed().iterator(chunk_size=2000):
        late_min = math.ceil((n.received_at - n.deadline_at).total_seconds() / 60) if n.is_late else 0
        w.writerow([n.device.name, n.record_id, n.facility_id, n.facility.district_code, n.started_at.isoformat(),
                    n.deadline_at.isoformat(), n.received_at.isoformat(), int(not n.is_late),
                    late_min,
                    n.acknowledged_at.isoformat() if n.acknowledged_at else ""])
    return resp
