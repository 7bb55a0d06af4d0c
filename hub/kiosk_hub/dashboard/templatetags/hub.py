from django import template
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kiosk_hub.dashboard.masking import mask_id

register = template.Library()


@register.filter
def get(mapping, key):
    try:
        return mapping[key]
    except (KeyError, TypeError, IndexError):
        return ""


@register.filter
def masked(value):
    return mask_id(value)


@register.filter
def pct(part, whole):
    try:
        return f"{100 * float(part) / float(whole):.0f} %" if whole else "—"
    except (TypeError, ValueError):
        return "—"


@register.filter
def part_label(part):
    return {"scanner": _("Scanner"), "chip": _("Chip reader"), "camera": _("Camera"),
            "printer": _("Printer")}.get(part, part)


@register.filter
def ago(value, now=None):
    """'5 min ago' / '3 h ago' / '2 days ago', short enough for a table cell, in the page's language."""
    if not value:
        return ""
    now = now or timezone.now()
    secs = int((now - value).total_seconds())
    if secs < 0:
        return _("in the future")
    if secs < 60:
        return _("just now")
    if secs < 3600:
        m = secs // 60
        return ngettext("%(n)d min ago", "%(n)d min ago", m) % {"n": m}
    if secs < 2 * 86400:
        h = secs // 3600
        return ngettext("%(n)d hour ago", "%(n)d hours ago", h) % {"n": h}
    d = secs // 86400
    return ngettext("%(n)d day ago", "%(n)d days ago", d) % {"n": d}


@register.filter
def until(value, now=None):
    """'in 25 min' / 'in 3 h' / '90 min late' for deadlines."""
    if not value:
        return ""
    now = now or timezone.now()
    secs = int((value - now).total_seconds())
    late = secs < 0
    secs = abs(secs)
    if secs < 3600:
        n = max(1, secs // 60)
        text = ngettext("%(n)d min", "%(n)d min", n) % {"n": n}
    elif secs < 2 * 86400:
        n = secs // 3600
        text = ngettext("%(n)d hour", "%(n)d hours", n) % {"n": n}
    else:
        n = secs // 86400
        text = ngettext("%(n)d day", "%(n)d days", n) % {"n": n}
    return (_("%(t)s late") if late else _("in %(t)s")) % {"t": text}
