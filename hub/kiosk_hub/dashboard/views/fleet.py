"""The fleet: one row per kiosk, stale / faulty / lagging highlighted, filters by district and state."""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from html import escape

from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.safestring import mark_safe
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from kiosk_hub.accounts.scope import role_required
from kiosk_hub.dashboard.templatetags.hub import ago, part_label, until
from kiosk_hub.dashboard.views.common import choice, districts, page
from kiosk_hub.ingest.models import RosterFile
from kiosk_hub.registry.models import Device

STALE_AFTER = dt.timedelta(minutes=30)   # no heartbeat for this long: stale (the kiosk sends one every 5 min)
LAG_UNSENT = dt.timedelta(hours=1)       # a record waiting longer than this to reach the hub: lagging
LAG_ROSTER = dt.timedelta(days=7)        # a roster older than this: lagging
LOW_DISK_MB = 500

STATES = {
    "ok": gettext_lazy("OK"),
    "stale": gettext_lazy("Stale"),
    "faulty": gettext_lazy("Faulty"),
    "lagging": gettext_lazy("Lagging"),
    "revoked": gettext_lazy("Revoked"),
}
DEVICE_PARTS = ("scanner", "chip", "camera", "printer")


def _roster_date(as_of: str | None) -> dt.date | None:
    if not as_of or len(as_of) < 10:
        return None
    try:
        return dt.date.fromisoformat(as_of[:10])
    except ValueError:
        return None


@dataclass(eq=False)
class Row:
    device: Device
    state: str
    reasons: list[str]
    status: object | None
    roster_age_days: int | None
    unsent_minutes: int | None
    parts: list[tuple[str, str]]

    @property
    def state_label(self) -> str:
        return STATES[self.state]

    @property
    def all_ok(self) -> bool:
        return bool(self.parts) and all(s == "ok" for _p, s in self.parts)


def classify(device: Device, status, now: dt.datetime, latest_roster: int | None = None) -> Row:
    """The kiosk's state and why: revoked > stale > faulty > lagging > ok."""
    reasons: list[str] = []
    roster_age = unsent = None
    parts: list[tuple[str, str]] = []
    if status is not None:
        rd = _roster_date(status.roster_as_of)
        if rd is not None:
            roster_age = (now.date() - rd).days
        if status.oldest_unsent_at is not None:
            unsent = int((now - status.oldest_unsent_at).total_seconds() // 60)
        parts = [(p, str((status.devices or {}).get(p, "absent"))) for p in DEVICE_PARTS]
    if device.revoked_at is not None:
        return Row(device, "revoked", [_("revoked")], status, roster_age, unsent, parts)
    last = status.received_at if status is not None else None
    if last is None or now - last > STALE_AFTER:
        reasons.append(_("no heartbeat for 30 minutes") if last else _("never sent a heartbeat"))
        return Row(device, "stale", reasons, status, roster_age, unsent, parts)
    faults = [p for p, s in parts if s == "fault"]
    if faults:
        reasons.append(_("device fault: %(parts)s") % {"parts": ", ".join(str(part_label(p)) for p in faults)})
    if status.clock_synced is False:
        reasons.append(_("clock not synchronised"))
    if status.disk_free_mb is not None and status.disk_free_mb < LOW_DISK_MB:
        reasons.append(_("disk almost full"))
    if reasons:
        return Row(device, "faulty", reasons, status, roster_age, unsent, parts)
    if unsent is not None and unsent * 60 > LAG_UNSENT.total_seconds():
        reasons.append(_("records waiting over an hour"))
    if roster_age is not None and roster_age > LAG_ROSTER.days:
        reasons.append(_("roster older than 7 days"))
    if latest_roster is not None and (status.roster_version or 0) < latest_roster and roster_age is None:
        reasons.append(_("roster not updated"))
    if reasons:
        return Row(device, "lagging", reasons, status, roster_age, unsent, parts)
    return Row(device, "ok", [], status, roster_age, unsent, parts)


def _labels() -> dict:
    return {"device_url": reverse("device", args=[0]), **{k: _(v) for k, v in (("station", "Station"), ("kiosk", "Kiosk"), ("state", "State"),
                                 ("last", "Last contact"), ("version", "Version"), ("roster", "Roster age"),
                                 ("backlog", "Backlog"), ("clock", "Clock"), ("devices", "Devices"),
                                 ("stays", "Open stays"), ("synced", "synced"), ("notsynced", "not synced"),
                                 ("allok", "Scanner, chip reader, camera and printer all OK"))}}


def row_html(r: Row, L: dict, now: dt.datetime) -> str:
    """One fleet row. Built here rather than in the template: 460 rows of template tags cost ~0.5 s,
    this costs a few ms (the page's p95 target is 500 ms with the whole province)."""
    def e(value) -> str:
        return escape(str(value), quote=True)

    d, s = r.device, r.status
    dash = "—"
    reasons = f'<div class="muted">{e("; ".join(r.reasons))}</div>' if r.reasons else ""
    if s is not None:
        last = (f'<span title="{date_format(localtime(s.received_at), "d/m/Y H:i")}">'
                f"{e(ago(s.received_at, now))}</span>")
        backlog = str(s.backlog) + (f'<div class="muted">{e(_("oldest %(m)s min") % {"m": r.unsent_minutes})}</div>'
                                    if r.unsent_minutes is not None else "")
        clock = ({True: f'<span class="badge ok">{e(L["synced"])}</span>',
                  False: f'<span class="badge fault">{e(L["notsynced"])}</span>'}.get(s.clock_synced, dash))
        stays = str(s.open_stays) + (
            f'<div class="muted" title="{date_format(localtime(s.earliest_stay_deadline), "d/m/Y H:i")}">'
            f"{e(until(s.earliest_stay_deadline, now))}</div>" if s.earliest_stay_deadline else "")
        version = e(s.app_version) or dash
    else:
        last = backlog = clock = stays = version = dash
    roster = dash if r.roster_age_days is None else e(
        ngettext("%(days)s day", "%(days)s days", r.roster_age_days) % {"days": r.roster_age_days})
    if s is not None and s.roster_version:
        roster += f'<div class="muted">v{int(s.roster_version)}</div>'
    parts = "".join(f'<span class="badge {e(st)}" title="{e(part_label(p))}: {e(st)}">{e(part_label(p))} '
                    f'{"✕" if st == "fault" else "–"}</span> ' for p, st in r.parts if st != "ok")
    if r.all_ok:
        parts = f'<span class="badge ok" title="{e(L["allok"])}">✓ {len(r.parts)}</span>'
    f = d.facility
    cells = [
        ("station", f'{e(f.name)} <span class="muted">{e(f.code)}</span><div class="muted">{e(f.district_name)}</div>', ""),
        ("kiosk", f'<a href="{L["device_url"].replace("/0/", f"/{int(d.pk)}/")}">{e(d.name)}</a>', ""),
        ("state", f'<span class="badge {r.state}">{e(r.state_label)}</span>{reasons}', "wrap state"),
        ("last", last, ""), ("version", version, ""), ("roster", roster, "num"), ("backlog", backlog, "num"),
        ("clock", clock, ""), ("devices", parts or dash, "devs wrap"), ("stays", stays, "num"),
    ]
    tds = "".join(f'<td data-label="{e(L[k])}"' + (f' class="{c}"' if c else "") + f">{v}</td>" for k, v, c in cells)
    return f'<tr class="{r.state}" data-device="{e(d.name)}" data-state="{r.state}">{tds}</tr>'


def fleet_rows(scope, district: str = "", state: str = "") -> list[Row]:
    now = timezone.now()
    devices = scope.filter(Device.objects.select_related("facility", "status"))
    if district:
        devices = devices.filter(facility__district_code=district)
    latest = RosterFile.objects.order_by("-version").values_list("version", flat=True).first()
    rows = []
    for d in devices.order_by("facility__district_code", "facility__code", "name"):
        status = getattr(d, "status", None)  # RelatedObjectDoesNotExist is an AttributeError
        rows.append(classify(d, status, now, latest))
    if state:
        rows = [r for r in rows if r.state == state]
    return rows


@role_required()
def fleet(request):
    district = request.GET.get("district", "")
    allowed = {code for code, _n in districts(request.scope)}
    district = district if district in allowed else ""
    state = choice(request.GET.get("state"), STATES, "")
    rows = fleet_rows(request.scope, district, state)
    L, now = _labels(), timezone.now()
    for r in rows:
        r.html = mark_safe(row_html(r, L, now))  # every value escaped in row_html
    counts = {k: 0 for k in STATES}
    for r in fleet_rows(request.scope, district) if state else rows:
        counts[r.state] += 1
    return page(request, "dashboard/fleet.html", "fleet", rows=rows, district=district, state=state,
                districts=districts(request.scope), states=STATES, counts=counts)


@role_required()
def fleet_csv(request):
    """The fleet table as CSV (no personal data: devices and their health only)."""
    district = request.GET.get("district", "")
    allowed = {code for code, _n in districts(request.scope)}
    rows = fleet_rows(request.scope, district if district in allowed else "",
                      choice(request.GET.get("state"), STATES, ""))
    resp = HttpResponse(content_type="text/csv; charset=utf-8")
    resp["Content-Disposition"] = 'attachment; filename="fleet.csv"'
    resp.write("\ufeff")  # Excel opens UTF-8 with a BOM
    w = csv.writer(resp)
    w.writerow(["device", "facility_code", "facility", "district", "state", "last_contact", "app_version",
                "roster_version", "roster_age_days", "backlog", "oldest_unsent_minutes", "clock_synced",
                *DEVICE_PARTS, "open_stays", "earliest_stay_deadline"])
    for r in rows:
        s = r.status
        w.writerow([r.device.name, r.device.facility_id, r.device.facility.name, r.device.facility.district_code,
                    r.state, s.received_at.isoformat() if s else "", s.app_version if s else "",
                    s.roster_version if s else "", "" if r.roster_age_days is None else r.roster_age_days,
                    s.backlog if s else "", "" if r.unsent_minutes is None else r.unsent_minutes,
                    "" if not s or s.clock_synced is None else int(s.clock_synced),
                    *([st for _p, st in r.parts] or [""] * len(DEVICE_PARTS)),
                    s.open_stays if s else "",
                    s.earliest_stay_deadline.isoformat() if s and s.earliest_stay_deadline else ""])
    return resp
