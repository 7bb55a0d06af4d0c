"""Stay notifications (the province's "check and urge" duty): deadlines, states, on-time rates.

A notification is *done* once sent to (or acknowledged by) the police system; it was *on time*
when that happened before its legal deadline. Open stays not yet sent by a kiosk still show,
from the kiosks' heartbeats (DeviceStatus.open_stays / earliest_stay_deadline).
"""

from __future__ import annotations

import csv
import datetime as dt

from django.core.paginator import Paginator
from django.db.models import Case, Count, DateTimeField, F, IntegerField, Min, Q, Sum, Value, When
from django.db.models.functions import Coalesce
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy

from kiosk_hub.accounts.scope import role_required
from kiosk_hub.dashboard.masking import mask_id
from kiosk_hub.dashboard.views.common import choice, districts, page
from kiosk_hub.ingest.models import StayNotification
from kiosk_hub.registry.models import DeviceStatus

SOON = dt.timedelta(hours=1)
DONE_STATES = ("sent", "acknowledged")
FILTERS = {
    "overdue": gettext_lazy("Overdue"),
    "due_soon": gettext_lazy("Due within an hour"),
    "open": gettext_lazy("Open"),
    "done": gettext_lazy("Done"),
    "late": gettext_lazy("Done late"),
}
STATE_LABELS = {"received": gettext_lazy("Received, not sent"), "sent": gettext_lazy("Sent"),
                "acknowledged": gettext_lazy("Acknowledged")}


def _done_at():
    return Coalesce(F("sent_at"), F("acknowledged_at"))


def stays_queryset(scope, now: dt.datetime, district: str = "", which: str = ""):
    """Scoped notifications, most urgent first: overdue, due within an hour, other open, done."""
    qs = scope.filter(StayNotification.objects.select_related("facility", "device"))
    if district:
        qs = qs.filter(facility__district_code=district)
    open_q = ~Q(state__in=DONE_STATES)
    qs = qs.annotate(urgency=Case(
        When(open_q & Q(deadline_at__lt=now), then=Value(0)),
        When(open_q & Q(deadline_at__lt=now + SOON), then=Value(1)),
        When(open_q, then=Value(2)),
        default=Value(3), output_field=IntegerField()))
    if which == "overdue":
        qs = qs.filter(urgency=0)
    elif which == "due_soon":
        qs = qs.filter(urgency=1)
    elif which == "open":
        qs = qs.filter(urgency__lte=2)
    elif which == "done":
        qs = qs.filter(urgency=3)
    elif which == "late":
        qs = qs.filter(urgency=3).annotate(done_at=_done_at()).filter(done_at__gt=F("deadline_at"))
    # Open ones by nearest deadline; done ones newest first.
    open_deadline = Case(When(urgency__lt=3, then=F("deadline_at")), output_field=DateTimeField())
    return qs.order_by("urgency", open_deadline.asc(nulls_last=True), F("deadline_at").desc(), "id")


def station_rates(scope, now: dt.datetime, district: str = "") -> list[dict]:
    """Per station: notifications done on time / late, overdue now, and the heartbeats' open stays."""
    qs = scope.filter(StayNotification.objects.all())
    if district:
        qs = qs.filter(facility__district_code=district)
    done = Q(state__in=DONE_STATES)
    agg = {r["facility_id"]: r for r in qs.annotate(done_at=_done_at()).values("facility_id").annotate(
        total=Count("id"),
        on_time=Count("id", filter=done & Q(done_at__lte=F("deadline_at"))),
        late=Count("id", filter=done & Q(done_at__gt=F("deadline_at"))),
        overdue=Count("id", filter=~done & Q(deadline_at__lt=now)),
        pending=Count("id", filter=~done & Q(deadline_at__gte=now)),
    )}
    hb_qs = scope.filter(DeviceStatus.objects.filter(device__revoked_at__isnull=True),
                         "device__facility_id", "device__facility__district_code")
    if district:
        hb_qs = hb_qs.filter(device__facility__district_code=district)
    hb = {r["device__facility_id"]: r for r in hb_qs.values("device__facility_id").annotate(
        open_stays=Sum("open_stays"), earliest=Min("earliest_stay_deadline"))}
    facilities = scope.facilities()
    if district:
        facilities = facilities.filter(district_code=district)
    out = []
    for f in facilities.order_by("district_code", "code"):
        a, h = agg.get(f.code), hb.get(f.code)
        if not a and not (h and h["open_stays"]):
            continue
        a = a or {"total": 0, "on_time": 0, "late": 0, "overdue": 0, "pending": 0}
        judged = a["on_time"] + a["late"] + a["overdue"]
        out.append({"facility": f, **a, "open_stays": h["open_stays"] if h else 0,
                    "earliest": h["earliest"] if h else None,
                    "earliest_overdue": bool(h and h["earliest"] and h["earliest"] < now),
                    "rate": (100.0 * a["on_time"] / judged) if judged else None})
    return out


def _id_of(payload) -> str:
    if not isinstance(payload, dict):
        return ""
    return mask_id(payload.get("id_number") or payload.get("passport_number") or "")


@role_required()
def stays(request):
    now = timezone.now()
    allowed = {code for code, _n in districts(request.scope)}
    district = request.GET.get("district", "")
    district = district if district in allowed else ""
    which = choice(request.GET.get("which"), FILTERS, "")
    paginator = Paginator(stays_queryset(request.scope, now, district, which), 100)
    pg = paginator.get_page(request.GET.get("page"))
    rows = [{"n": n, "masked_id": _id_of(n.payload), "done_at": n.sent_at or n.acknowledged_at,
             "css": {0: "overdue", 1: "due-soon", 2: "open", 3: "done"}[n.urgency],
             "late": bool((n.sent_at or n.acknowledged_at) and (n.sent_at or n.acknowledged_at) > n.deadline_at)}
            for n in pg.object_list]
    rates = station_rates(request.scope, now, district)
    totals = {k: sum(r[k] for r in rates) for k in ("overdue", "pending", "on_time", "late", "open_stays")}
    judged = totals["on_time"] + totals["late"] + totals["overdue"]
    return page(request, "dashboard/stays.html", "stays", rows=rows, page_obj=pg, rates=rates, totals=totals,
                rate=(100.0 * totals["on_time"] / judged) if judged else None, filters=FILTERS,
                which=which, district=district, districts=districts(request.scope), labels=STATE_LABELS, now=now)


@role_required()
def stays_csv(request):
    """Notifications with their deadlines and states. No personal data: no names, no ID numbers."""
    now = timezone.now()
    allowed = {code for code, _n in districts(request.scope)}
    district = request.GET.get("district", "")
    qs = stays_queryset(request.scope, now, district if district in allowed else "",
                        choice(request.GET.get("which"), FILTERS, ""))
    resp = HttpResponse(content_type="text/csv; charset=utf-8")
    resp["Content-Disposition"] = 'attachment; filename="stay-notifications.csv"'
    resp.write("\ufeff")
    w = csv.writer(resp)
    w.writerow(["device", "record_id", "facility_code", "district", "started_at", "deadline_at", "state",
                "done_at", "on_time", "overdue_now"])
    for n in qs.iterator(chunk_size=2000):
        done_at = n.sent_at or n.acknowledged_at
        w.writerow([n.device.name, n.record_id, n.facility_id, n.facility.district_code, n.started_at.isoformat(),
                    n.deadline_at.isoformat(), n.state, done_at.isoformat() if done_at else "",
                    "" if done_at is None else int(done_at <= n.deadline_at), int(n.urgency == 0)])
    return resp
