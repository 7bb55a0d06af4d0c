"""Roster: upload a snapshot or delta (the same publish function as `kiosk-hub roster publish`),
and which version each kiosk holds (from its heartbeats)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kiosk_hub.accounts.scope import role_required
from kiosk_hub.dashboard.views.common import page
from kiosk_hub.ingest import roster as roster_files
from kiosk_hub.ingest.models import RosterFile
from kiosk_hub.registry import actions
from kiosk_hub.registry.models import Device


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Roster file (snapshot or delta, .jsonl or .jsonl.gz)"))


@role_required()
def roster(request):
    files = list(RosterFile.objects.order_by("-version", "-id")[:30])
    latest = files[0].version if files else None
    devices = request.scope.filter(Device.objects.filter(revoked_at__isnull=True)
                                   .select_related("facility", "status")).order_by(
        "facility__district_code", "facility__code", "name")
    rows, behind = [], 0
    for d in devices:
        st = getattr(d, "status", None)
        version = st.roster_version if st else None
        current = latest is not None and version is not None and version >= latest
        behind += 0 if current else 1
        rows.append({"device": d, "version": version, "as_of": st.roster_as_of if st else None, "current": current})
    return page(request, "dashboard/roster.html", "roster", files=files, latest=latest, rows=rows, behind=behind,
                form=UploadForm() if request.scope.is_admin else None)


@role_required(admin=True)
@require_POST
def upload(request):
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose a roster file to upload."))
        return redirect("roster")
    upload = form.cleaned_data["file"]
    # The upload holds personal data: a 0600 file in the hub's data directory, removed after publishing.
    tmp_dir = Path(settings.DATA_DIR)
    tmp_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    suffix = ".jsonl.gz" if upload.name.endswith(".gz") else ".jsonl"
    fd, tmp = tempfile.mkstemp(prefix="upload-", suffix=suffix, dir=tmp_dir)
    try:
        with os.fdopen(fd, "wb") as f:
            for chunk in upload.chunks():
                f.write(chunk)
        try:
            rf = roster_files.publish(Path(tmp))
        except roster_files.RosterError as exc:
            messages.error(request, _("Roster file refused: %(reason)s") % {"reason": exc})
            return redirect("roster")
    finally:
        Path(tmp).unlink(missing_ok=True)
    actions.record(request.user.get_username(), "roster.publish", f"roster/{rf['file_id']}",
                   kind=rf["kind"], version=rf["version"], sha256=rf["sha256"], size=rf["size"], via="dashboard")
    messages.success(request, _("Published roster %(kind)s version %(version)s.")
                     % {"kind": rf["kind"], "version": rf["version"]})
    return redirect("roster")
