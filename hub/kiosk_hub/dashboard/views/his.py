"""HIS clients and their push endpoints (FHIR, docs/fhir.md), province admins only: each endpoint's lag and
failures, registering a client (its bearer token shown once) and revoking one. Changes go through
kiosk_hub.fhir.clients and kiosk_hub.fhir.push, as `kiosk-hub his add|revoke` do."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from kiosk_hub.accounts.scope import role_required
from kiosk_hub.dashboard.views.common import page
from kiosk_hub.fhir import clients, push
from kiosk_hub.fhir.models import HisClient
from kiosk_hub.registry.models import Facility

LAG_WARN_SECONDS = 300   # a queue older than this is shown as behind


class HisAddForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("HIS client name"), max_length=120,
                           help_text=gettext_lazy("e.g. his-nghi-phong: the station's medical software"))
    facilities = forms.MultipleChoiceField(label=gettext_lazy("Facilities it serves"),
                                           widget=forms.SelectMultiple(attrs={"size": 8}))
    push_url = forms.CharField(label=gettext_lazy("Push URL (its FHIR base, optional)"), max_length=500,
                               required=False)
    push_token = forms.CharField(label=gettext_lazy("Push token (the HIS's bearer token, optional)"),
                                 max_length=500, required=False,
                                 widget=forms.PasswordInput(render_value=False))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["facilities"].choices = [(f.code, f"{f.code} · {f.name} ({f.district_name})")
                                             for f in Facility.objects.order_by("district_code", "code")]

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("A name is needed."))
        if HisClient.objects.filter(name=name).exists():
            raise forms.ValidationError(_("A HIS client named %(name)s exists.") % {"name": name})
        return name

    def clean_push_url(self) -> str:
        url = self.cleaned_data["push_url"].strip()
        if not url:
            return ""
        try:
            return push.check_url(url)   # the CLI's rule: https://, plain http:// to loopback only
        except push.PushError:
            raise forms.ValidationError(_("The push URL must be https:// without a user or password "
                                          "(plain http:// only to a loopback address).")) from None

    def clean_push_token(self) -> str:
        token = self.cleaned_data["push_token"].strip()
        if any(c.isspace() for c in token):
            raise forms.ValidationError(_("The push token is one word, without spaces."))
        return token

    def clean(self):
        data = super().clean()
        if data.get("push_token") and not data.get("push_url") and "push_url" not in self.errors:
            self.add_error("push_url", _("A push token needs a push URL."))
        return data


def _rows():
    rows = push.status()
    for r in rows:
        r["behind"] = r["lag_seconds"] > LAG_WARN_SECONDS or r["parked"] > 0
    return rows


def _clients():
    return HisClient.objects.prefetch_related("facilities").order_by("name")


def _page(request, form: HisAddForm, status: int = 200):
    resp = page(request, "dashboard/his.html", "his", rows=_rows(), warn=LAG_WARN_SECONDS, clients=_clients(),
                form=form)
    resp.status_code = status
    return resp


@role_required(admin=True)
def his(request):
    return _page(request, HisAddForm())


@never_cache
@role_required(admin=True)
@require_POST
def his_add(request):
    form = HisAddForm(request.POST)
    if not form.is_valid():
        return _page(request, form)
    d = form.cleaned_data
    try:
        with transaction.atomic():
            client, token = clients.add(d["name"], d["facilities"], actor=request.user.get_username())
            if d["push_url"]:
                push.register(client, d["push_url"], d["push_token"])
    except (clients.ClientError, push.PushError) as exc:
        form.add_error("name", str(exc))
        return _page(request, form)
    resp = page(request, "dashboard/his_added.html", "his", client=client, token=token,
                facilities=sorted(d["facilities"]), push_url=d["push_url"],
                fhir_base=request.build_absolute_uri("/fhir/R4"))
    resp["Cache-Control"] = "no-store"
    return resp


@role_required(admin=True)
@require_POST
def his_revoke(request, pk: int):
    client = HisClient.objects.filter(pk=pk).first()
    if client is None:
        raise Http404
    with transaction.atomic():
        clients.revoke(client.name, actor=request.user.get_username())
        dropped = push.forget(client)
    if dropped:
        messages.success(request, _("HIS client %(name)s revoked: the hub refuses its token from now on; "
                                    "%(n)s pending pushes dropped.") % {"name": client.name, "n": dropped})
    else:
        messages.success(request, _("HIS client %(name)s revoked: the hub refuses its token from now on.")
                         % {"name": client.name})
    return redirect("his")
