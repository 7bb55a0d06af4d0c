"""Stay notifications (the province's "check and urge" duty): deadlines, states, on-time rates.

A notification is *done* once sent to (or acknowledged by) the police system; it was *on time*
when that happened before its legal deadline. Open stays not yet sent by a kiosk still show,
from the kiosks' heartbeats (DeviceStatus.open_stays / earliest_stay_deadline).
"""

from __future__ import annotations

import csv
import datetime as dt

from django.core.paginator import Paginator
from django.db.models import Count, F, Min, Q, Sum
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


class UrgentFirst:
    """Scoped notifications, most urgent first: overdue, due within an hour, other open (nearest deadline
    first), then done (newest first). Two index-ordered queries, concatenated, so the page never sorts the
    whole table (100 k notifications a year in a province; the open ones are a few). Paginator-compatible."""

    def __init__(self, scope, now: dt.datetime, district: str = "", which: str = ""):
        qs = scope.filter(StayNotification.objects.select_related("facility", "device"))
        if district:
            qs = qs.filter(facility__district_code=district)
        self.now = now
        open_qs = qs.exclude(state__in=DONE_STATES).order_by("deadline_at", "id")
        done_qs = qs.filter(state__in=DONE_STATES).order_by("-deadline_at", "-id")
        if which == "overdue":
            parts = [open_qs.filter(deadline_at__lt=now)]
        elif which == "due_soon":
            parts = [open_qs.filter(deadline_at__gte=now, deadline_at__lt=now + SOON)]
        elif which == "open":
            parts = [open_qs]
        elif which == "done":
            parts = [done_qs]
        elif which == "late":
            parts = [done_qs.annotate(done_at=_done_at()).filter(done_at__gt=F("deadline_at"))]
        else:
            parts = [open_qs, done_qs]
        self.parts = parts
        self._counts: list[int] | None = None

    def counts(self) -> list[int]:
        if self._counts is None:
            self._counts = [p.count() for p in self.parts]
        return self._counts

    def count(self) -> int:
        return sum(self.counts())

    def __len__(self) -> int:
        return self.count()

    def urgency(self, n) -> int:
        if n.state in DONE_STATES:
            return 3
        if n.deadline_at < self.now:
            return 0
        return 1 if n.deadline_at < self.now + SOON else 2

    def _tag(self, items):
        for n in items:
            n.urgency = self.urgency(n)
        return items

    def __getitem__(self, sl: slice):
        start, stop = sl.start or 0, sl.stop
        out = []
        for part, n in zip(self.parts, self.counts()):
            if stop is not None and stop <= 0:
                break
            if start < n:
                out.extend(part[start:(n if stop is None else min(stop, n))])
            start, stop = max(0, start - n), (None if stop is None else stop - n)
        return self._tag(out)

    def __iter__(self):
        for part in self.parts:
            for n in part.iterator(chunk_size=2000):
                n.urgency = self.urgency(n)
                yield n


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
    paginator = Paginator(UrgentFirst(request.scope, now, district, which), 100)
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
    qs = UrgentFirst(request.scope, now, district if district in allowed else "",
                     choice(request.GET.get("which"), FILTERS, ""))
    resp = HttpResponse(content_type="text/csv; charset=utf-8")
    resp["Content-Disposition"] = 'attachment; filename="stay-notifications.csv"'
    resp.write("\ufeff")
    w = csv.writer(resp)
    w.writerow(["device", "record_id", "facility_code", "district", "started_at", "deadline_at", "state",
                "done_at", "on_time", "overdue_now"])
    for n in qs:
        done_at = n.sent_at or n.acknowledged_at
        w.writerow([n.device.name, n.record_id, n.facility_id, n.facility.district_code, n.started_at.isoformat(),
                    n.deadline_at.isoformat(), n.state, done_at.isoformat() if done_at else "",
                    "" if done_at is None else int(done_at <= n.deadline_at), int(n.urgency == 0)])
    return resp
