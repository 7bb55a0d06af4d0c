"""Use of the readers (the province's "100 % of stations use the QR readers" duty).

Everything here reads the DailyUse aggregate (facility × day × document), never the visits.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict

from django.db.models import Sum
from django.db.models.functions import TruncMonth, TruncWeek
from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kiosk_hub.accounts.scope import role_required
from kiosk_hub.dashboard import charts
from kiosk_hub.dashboard.views.common import choice, districts, page, parse_date, vn_today
from kiosk_hub.ingest.models import DailyUse

READERS = ("chip", "cccd_qr", "bhyt_qr", "mrz")
DOCS = (*READERS, "manual", "unknown")
DOC_LABELS = {
    "chip": gettext_lazy("Chip"), "cccd_qr": gettext_lazy("CCCD QR"), "bhyt_qr": gettext_lazy("BHYT QR"),
    "mrz": gettext_lazy("MRZ"), "manual": gettext_lazy("Manual entry"), "unknown": gettext_lazy("Not reported"),
}
PERIODS = {"day": gettext_lazy("Day"), "week": gettext_lazy("Week"), "month": gettext_lazy("Month")}
GROUPS = {"station": gettext_lazy("Station"), "district": gettext_lazy("District")}
MAX_DAYS = 731


class Query:
    """The page's parameters, validated: period, date range, district, grouping."""

    def __init__(self, request):
        g = request.GET
        self.period = choice(g.get("period"), PERIODS, "day")
        self.by = choice(g.get("by"), GROUPS, "station")
        today = vn_today()
        default_span = {"day": 29, "week": 12 * 7 - 1, "month": 365}[self.period]
        self.end = parse_date(g.get("end"), today)
        self.start = parse_date(g.get("start"), self.end - dt.timedelta(days=default_span))
        if self.start > self.end:
            self.start, self.end = self.end, self.start
        if (self.end - self.start).days > MAX_DAYS:
            self.start = self.end - dt.timedelta(days=MAX_DAYS)
        allowed = {code for code, _n in districts(request.scope)}
        d = g.get("district", "")
        self.district = d if d in allowed else ""
        self.scope = request.scope

    def params(self) -> str:
        return (f"period={self.period}&by={self.by}&start={self.start.isoformat()}&end={self.end.isoformat()}"
                f"&district={self.district}")

    def daily(self):
        qs = self.scope.filter(DailyUse.objects.filter(day__gte=self.start, day__lte=self.end))
        if self.district:
            qs = qs.filter(facility__district_code=self.district)
        return qs

    def facilities(self):
        qs = self.scope.facilities()
        if self.district:
            qs = qs.filter(district_code=self.district)
        return qs


def _doc(doc: str | None) -> str:
    return doc if doc in DOCS else "unknown"


def _blank() -> dict:
    return {d: 0 for d in DOCS}


def group_totals(q: Query) -> list[dict]:
    """One row per station (or district) in scope, with visits per document over the range."""
    if q.by == "district":
        keys = ("facility__district_code",)
        groups = {code: {"code": code, "name": name, "district": name, **_blank()}
                  for code, name in q.facilities().values_list("district_code", "district_name").distinct()}
    else:
        keys = ("facility_id",)
        groups = {code: {"code": code, "name": name, "district": dname, **_blank()}
                  for code, name, dname in q.facilities().values_list("code", "name", "district_name")}
    for row in q.daily().values(*keys, "document").annotate(n=Sum("visits")):
        g = groups.get(row[keys[0]])
        if g is not None:
            g[_doc(row["document"])] += row["n"] or 0
    out = []
    for g in groups.values():
        g["total"] = sum(g[d] for d in DOCS)
        g["readers"] = sum(g[d] for d in READERS)
        g["reader_share"] = (100.0 * g["readers"] / g["total"]) if g["total"] else None
        out.append(g)
    out.sort(key=lambda g: (g["district"], g["code"]))
    return out


def _trunc(period: str):
    return {"week": TruncWeek("day"), "month": TruncMonth("day")}.get(period)


def _bucket(day: dt.date, period: str) -> dt.date:
    if period == "week":
        return day - dt.timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day


def periods(q: Query) -> list[dt.date]:
    out, day = [], _bucket(q.start, q.period)
    while day <= q.end:
        out.append(day)
        if q.period == "day":
            day += dt.timedelta(days=1)
        elif q.period == "week":
            day += dt.timedelta(days=7)
        else:
            day = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return out


def period_rows(q: Query, by: str | None = None) -> dict[tuple[dt.date, str], dict]:
    """(period start, group code) → visits per document, grouped in the database.

    Per district the database groups by day (a few districts × days × documents rows) and the days are
    put into weeks or months here: SQLite's date truncation is a Python function called per row, far
    slower over a year of a province. Per station, weeks and months are truncated in the database."""
    key = "facility__district_code" if (by or q.by) == "district" else "facility_id"
    trunc = _trunc(q.period) if key == "facility_id" else None
    qs = q.daily()
    qs = qs.annotate(p=trunc).values("p", key, "document") if trunc else qs.values("day", key, "document")
    out: dict[tuple[dt.date, str], dict] = defaultdict(_blank)
    for row in qs.annotate(n=Sum("visits")).order_by():
        p = row["p"] if trunc else _bucket(row["day"], q.period)
        if isinstance(p, dt.datetime):
            p = p.date()
        out[(p, row[key])][_doc(row["document"])] += row["n"] or 0
    return out


def label(p: dt.date, period: str) -> str:
    if period == "month":
        return p.strftime("%m/%Y")
    if period == "week":
        return f"{p.isocalendar()[1]:02d}/{p.isocalendar()[0]}"
    return p.strftime("%d/%m")


def share_series(q: Query, per: dict, buckets: list[dt.date], groups: list[dict]):
    """Reader share per period: the whole scope, plus one line per district when there are a few."""
    def share(cells):
        total = sum(c[d] for c in cells for d in DOCS)
        return None if not total else 100.0 * sum(c[d] for c in cells for d in READERS) / total

    by_period = defaultdict(list)
    for (p, code), cells in per.items():
        by_period[p].append((code, cells))
    series = [(_("All"), [share([c for _k, c in by_period.get(p, [])]) for p in buckets])]
    if q.by == "district" and 1 < len(groups) <= 5:  # `per` is keyed by district here
        for g in groups:
            series.append((g["name"], [share([c for k, c in by_period.get(p, []) if k == g["code"]])
                                       for p in buckets]))
    return series


@role_required()
def use(request):
    q = Query(request)
    groups = group_totals(q)
    per = period_rows(q, by="district")  # the line chart needs no more than districts: a few rows per period
    buckets = periods(q)
    unused = [g for g in groups if g["readers"] == 0] if q.by == "station" else []
    total = _blank()
    for g in groups:
        for d in DOCS:
            total[d] += g[d]
    total_all = sum(total.values())
    series = [(f"c-{d}", str(DOC_LABELS[d])) for d in DOCS]
    bar = charts.stacked_bars([(g["name"], [g[d] for d in DOCS]) for g in groups][:60], series,
                              title=_("Share of visits by document"))
    line = charts.lines([label(p, q.period) for p in buckets], share_series(q, per, buckets, groups),
                        title=_("Visits identified by a reader (%)"))
    return page(request, "dashboard/use.html", "use", q=q, groups=groups, unused=unused, docs=DOCS,
                readers=READERS, doc_labels=DOC_LABELS, periods=PERIODS, group_choices=GROUPS,
                districts=districts(request.scope), total=total, total_all=total_all,
                total_readers=sum(total[d] for d in READERS), bar=bar, line=line,
                truncated=len(groups) > 60)


def export_rows(q: Query):
    """Header and rows of the export: one row per period and station/district. No personal data."""
    names = {g["code"]: g for g in group_totals(q)}
    header = ["period_start", "district" if q.by == "district" else "station_code", "name", "district_name",
              "visits", *DOCS, "reader_share_pct"]
    rows = []
    for (p, code), cells in sorted(period_rows(q).items()):
        g = names.get(code)
        if g is None:
            continue
        total = sum(cells.values())
        readers = sum(cells[d] for d in READERS)
        rows.append([p.isoformat(), code, g["name"], g["district"], total, *[cells[d] for d in DOCS],
                     round(100.0 * readers / total, 1) if total else ""])
    return header, rows


@role_required()
def use_csv(request):
    q = Query(request)
    header, rows = export_rows(q)
    buf = io.StringIO()
    buf.write("\ufeff")
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(rows)
    resp = HttpResponse(buf.getvalue(), content_type="text/csv; charset=utf-8")
    resp["Content-Disposition"] = (f'attachment; filename="reader-use-{q.period}-{q.start.isoformat()}-'
                                   f'{q.end.isoformat()}.csv"')
    return resp


@role_required()
def use_xlsx(request):
    # Deferred: openpyxl takes about 0.2 s to import, which every worker would pay at start for one export.
    from openpyxl import Workbook

    q = Query(request)
    header, rows = export_rows(q)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_("Use of readers")[:31])
    ws.append(header)
    for r in rows:
        ws.append(r)
    unused = wb.create_sheet(_("No reader use")[:31])
    unused.append(["station_code", "name", "district_name", "visits"])
    for g in group_totals(q) if q.by == "station" else []:
        if g["readers"] == 0:
            unused.append([g["code"], g["name"], g["district"], g["total"]])
    buf = io.BytesIO()
    wb.save(buf)
    resp = HttpResponse(buf.getvalue(),
                        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    resp["Content-Disposition"] = (f'attachment; filename="reader-use-{q.period}-{q.start.isoformat()}-'
                                   f'{q.end.isoformat()}.xlsx"')
    return resp
