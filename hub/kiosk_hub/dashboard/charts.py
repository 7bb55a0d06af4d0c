"""Bar and line charts as inline SVG, drawn on the server (no JavaScript, no CDN).

Colours come from CSS classes (`.c-chip`, `.s0`, …) in static/dashboard/hub.css, so the charts
follow the page's palette and print well.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from django.utils.safestring import SafeString, mark_safe


def _num(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def stacked_bars(rows: Sequence[tuple[str, Sequence[float]]], series: Sequence[tuple[str, str]],
                 *, title: str, width: int = 640, bar_height: int = 18) -> SafeString:
    """Horizontal 100 % bars: one per row label, segments by series share.

    `rows`: (label, values per series); `series`: (css class, legend label).
    """
    label_w, legend_h, gap = 170, 26, 6
    plot_w = width - label_w - 50
    height = legend_h + len(rows) * (bar_height + gap) + 24
    out = [f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
           f'preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">',
           f"<title>{escape(title)}</title>"]
    x = label_w
    for css, name in series:  # legend
        out.append(f'<rect class="{css}" x="{x}" y="4" width="12" height="12"/>'
                   f'<text class="legend" x="{x + 16}" y="14">{escape(name)}</text>')
        x += 22 + 7 * len(name)
    for i, (label, values) in enumerate(rows):
        y = legend_h + i * (bar_height + gap)
        total = sum(values)
        short = label if len(label) <= 26 else label[:25] + "…"
        out.append(f'<text class="axis" x="{label_w - 6}" y="{y + bar_height - 5}" text-anchor="end">'
                   f"<title>{escape(label)}</title>{escape(short)}</text>")
        if not total:
            out.append(f'<rect class="empty" x="{label_w}" y="{y}" width="{plot_w}" height="{bar_height}"/>')
            continue
        x = float(label_w)
        for (css, name), value in zip(series, values, strict=True):
            w = plot_w * value / total
            if w <= 0:
                continue
            out.append(f'<rect class="{css}" x="{_num(x)}" y="{y}" width="{_num(w)}" height="{bar_height}">'
                       f"<title>{escape(label)} · {escape(name)}: {int(value)} "
                       f"({_num(100 * value / total)} %)</title></rect>")
            x += w
        out.append(f'<text class="axis" x="{label_w + plot_w + 4}" y="{y + bar_height - 5}">{int(total)}</text>')
    for pct in (0, 50, 100):
        gx = label_w + plot_w * pct / 100
        out.append(f'<text class="axis" x="{_num(gx)}" y="{height - 6}" text-anchor="middle">{pct} %</text>')
    out.append("</svg>")
    return mark_safe("".join(out))


def lines(labels: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]], *,
          title: str, y_max: float = 100.0, unit: str = "%", width: int = 640, height: int = 220) -> SafeString:
    """Line chart over `labels` (periods); each series is (legend label, values or None for no data)."""
    left, right, top, bottom = 44, 12, 26, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    n = len(labels)

    def px(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def py(v: float) -> float:
        return top + plot_h * (1 - min(v, y_max) / y_max if y_max else 1)

    out = [f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
           f'preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">',
           f"<title>{escape(title)}</title>"]
    for frac in (0, 0.25, 0.5, 0.75, 1):
        y = py(y_max * frac)
        out.append(f'<line class="grid" x1="{left}" y1="{_num(y)}" x2="{left + plot_w}" y2="{_num(y)}"/>'
                   f'<text class="axis" x="{left - 4}" y="{_num(y + 4)}" text-anchor="end">'
                   f"{_num(y_max * frac)}{escape(unit)}</text>")
    step = max(1, (n + 7) // 8)  # at most ~8 period labels
    for i, label in enumerate(labels):
        if i % step == 0 or (i == n - 1 and i % step > step // 2):
            out.append(f'<text class="axis" x="{_num(px(i))}" y="{height - bottom + 16}" '
                       f'text-anchor="middle">{escape(label)}</text>')
    x = left
    for k, (name, values) in enumerate(series):
        css = f"s{k % 6}"
        out.append(f'<rect class="{css}" x="{x}" y="4" width="12" height="12"/>'
                   f'<text class="legend" x="{x + 16}" y="14">{escape(name)}</text>')
        x += 22 + 7 * len(name)
        points, path = [], []
        for i, v in enumerate(values):
            if v is None:
                if path:
                    points.append(path)
                path = []
                continue
            path.append((px(i), py(v), labels[i], v))
        if path:
            points.append(path)
        for run in points:
            d = " ".join(f"{'M' if j == 0 else 'L'}{_num(a)},{_num(b)}" for j, (a, b, _, _) in enumerate(run))
            out.append(f'<path class="line {css}" d="{d}"/>')
            for a, b, label, v in run:
                out.append(f'<circle class="{css}" cx="{_num(a)}" cy="{_num(b)}" r="3">'
                           f"<title>{escape(name)} {escape(label)}: {_num(v)}{escape(unit)}</title></circle>")
    out.append("</svg>")
    return mark_safe("".join(out))
