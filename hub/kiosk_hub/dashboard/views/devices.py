"""Devices: the list in scope, enrol (token shown once, with a QR), revoke with an optional wipe,
and the audit-chain anchors each kiosk has copied to the hub. Changes go through registry.services."""

from __future__ import annotations

import json

import segno
from django import forms
from django.contrib import messages
from django.db.models import Count, Max, OuterRef, Subquery
from django.http import Http404
from django.shortcuts import redirect
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from kiosk_hub.accounts.scope import role_required
from kiosk_hub.dashboard.views.common import page
from kiosk_hub.ingest.models import AuditEntry
from kiosk_hub.registry import services
from kiosk_hub.registry.models import Device, Facility

ANCHORS_SHOWN = 20


class EnrolForm(forms.Form):
    facility = forms.ChoiceField(label=gettext_lazy("Station"))
    name = forms.RegexField(label=gettext_lazy("Kiosk name"), max_length=120, regex=r"^[a-z0-9][a-z0-9._-]*$",
                            help_text=gettext_lazy("Lower-case letters, digits, dot, dash: e.g. tram-nghi-phong-1"),
                            error_messages={"invalid": gettext_lazy("Use lower-case letters, digits, '.', '-', '_'.")})
    reenrol = forms.BooleanField(label=gettext_lazy("Re-enrol (a new token for an existing kiosk)"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["facility"].choices = [(f.code, f"{f.code} · {f.name} ({f.district_name})")
                                           for f in Facility.objects.order_by("district_code", "code")]


class RevokeForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=200, required=False)
    wipe = forms.BooleanField(label=gettext_lazy("Order the kiosk to wipe its data"), required=False)


def _enrol_error(form: EnrolForm) -> bool:
    """A name already enrolled is refused unless re-enrolment is asked for: it would replace a live token."""
    name = form.cleaned_data["name"]
    if not form.cleaned_data.get("reenrol") and Device.objects.filter(name=name).exists():
        form.add_error("name", _("A kiosk named %(name)s is already enrolled. Tick “re-enrol” to give it a new "
                                 "token (its old token stops working).") % {"name": name})
        return True
    return False


def _anchors(device: Device):
    """The hub's copies of the kiosk's audit chain: the latest entries, and whether the copies link up."""
    entries = list(AuditEntry.objects.filter(device=device).order_by("-seq")
                   .values("seq", "entry_hash", "prev_hash", "received_at")[:ANCHORS_SHOWN])
    stats = AuditEntry.objects.filter(device=device).aggregate(n=Count("id"), last=Max("seq"))
    breaks = []
    for newer, older in zip(entries, entries[1:]):
        if newer["seq"] == older["seq"] + 1 and newer["prev_hash"] != older["entry_hash"]:
            breaks.append(newer["seq"])
    return entries, stats, breaks


def _device_list(qs):
    # The last anchor per device through the (device, seq) unique index: no scan of every audit copy.
    last = AuditEntry.objects.filter(device=OuterRef("pk")).order_by("-seq").values("seq")[:1]
    return qs.select_related("facility", "status").annotate(audit_last=Subquery(last)).order_by(
        "facility__district_code", "facility__code", "name")


@role_required()
def devices(request):
    qs = _device_list(request.scope.filter(Device.objects.all()))
    form = EnrolForm() if request.scope.is_admin else None
    return page(request, "dashboard/devices.html", "devices", devices=qs, form=form)


def _scoped_device(request, pk: int) -> Device:
    try:
        return request.scope.filter(Device.objects.select_related("facility")).get(pk=pk)
    except Device.DoesNotExist:
        raise Http404 from None


@role_required()
def device(request, pk: int):
    d = _scoped_device(request, pk)
    entries, stats, breaks = _anchors(d)
    return page(request, "dashboard/device.html", "devices", device=d, status=getattr(d, "status", None),
                anchors=entries, audit=stats, breaks=breaks,
                revoke_form=RevokeForm() if request.scope.is_admin and d.revoked_at is None else None)


@never_cache
@role_required(admin=True)
@require_POST
def enrol(request):
    form = EnrolForm(request.POST)
    if not form.is_valid() or _enrol_error(form):
        return page(request, "dashboard/devices.html", "devices", devices=_device_list(Device.objects.all()),
                    form=form)
    try:
        dev, token = services.enrol(form.cleaned_data["facility"], form.cleaned_data["name"],
                                    actor=request.user.get_username())
    except services.ServiceError as exc:
        form.add_error("name", str(exc))
        return page(request, "dashboard/devices.html", "devices", devices=_device_list(Device.objects.all()),
                    form=form)
    # The technician's phone scans this to set up the kiosk: hub address, kiosk name, token.
    hub_url = request.build_absolute_uri("/")
    qr_text = json.dumps({"hub": hub_url, "name": dev.name, "facility": dev.facility_id, "token": token},
                         separators=(",", ":"))
    qr = segno.make(qr_text, error="m").svg_inline(scale=4, border=2, title=_("Kiosk token"))
    resp = page(request, "dashboard/enrolled.html", "devices", device=dev, token=token, qr=mark_safe(qr),
                hub_url=hub_url)
    resp["Cache-Control"] = "no-store"
    return resp


@role_required(admin=True)
@require_POST
def revoke(request, pk: int):
    d = _scoped_device(request, pk)
    form = RevokeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The reason is too long."))
        return redirect("device", pk=d.pk)
    services.revoke(d.name, form.cleaned_data["reason"], form.cleaned_data["wipe"],
                    actor=request.user.get_username())
    if form.cleaned_data["wipe"]:
        messages.success(request, _("Kiosk %(name)s revoked; it will wipe its data at its next contact.")
                         % {"name": d.name})
    else:
        messages.success(request, _("Kiosk %(name)s revoked: the hub refuses its token from now on.")
                         % {"name": d.name})
    return redirect("device", pk=d.pk)
