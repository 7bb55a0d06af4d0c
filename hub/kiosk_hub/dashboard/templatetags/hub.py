from django import template
from django.utils.translation import gettext as _

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
