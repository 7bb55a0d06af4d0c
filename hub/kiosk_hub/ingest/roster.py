"""Roster files the hub publishes to kiosks (snapshots and deltas, docs/roster-format.md)."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import RosterFile


class RosterError(ValueError):
    """The file cannot be published (bad header, duplicate, delta from a version the hub never had)."""


def read_header(path: Path) -> dict[str, Any]:
    with open(path, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    opener = gzip.open if gz else open
    try:
        with opener(path, "rb") as f:
            first = f.readline(1 << 16)
    except (OSError, EOFError) as e:
        raise RosterError(f"cannot read {path.name}: {type(e).__name__}") from None
    try:
        head = json.loads(first) if first.strip() else {}
    except ValueError:
        raise RosterError(f"{path.name}: the first line is not JSON") from None
    if not isinstance(head, dict) or "roster" not in head:
        return {"roster": "snapshot", "version": 0, "gzip": gz, "as_of": None}
    kind = head.get("roster")
    as_of = head.get("as_of") if isinstance(head.get("as_of"), str) and len(head["as_of"]) <= 32 else None
    ints = lambda *ks: all(isinstance(head.get(k), int) and not isinstance(head.get(k), bool) and head[k] >= 0
                           for k in ks)
    if kind == "snapshot" and ints("version"):
        return {"roster": "snapshot", "version": head["version"], "gzip": gz, "as_of": as_of}
    if kind == "delta" and ints("since", "until") and head["until"] > head["since"]:
        return {"roster": "delta", "since": head["since"], "until": head["until"], "gzip": gz, "as_of": as_of}
    raise RosterError(f"{path.name}: bad roster header (expected {{\"roster\": \"snapshot\", \"version\": N}} "
                      f"or {{\"roster\": \"delta\", \"since\": N, \"until\": M}} with M > N)")


def roster_dir() -> Path:
    d = Path(settings.HUB_ROSTER_DIR)
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    return d


def publish(src: Path) -> dict[str, Any]:
    """Copy a roster file into the data directory (0600) and offer it to kiosks."""
    src = Path(src)
    if not src.is_file():
        raise RosterError(f"no such file: {src}")
    head = read_header(src)
    digest = hashlib.sha256()
    with open(src, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    sha = digest.hexdigest()
    size = src.stat().st_size
    version = head["version"] if head["roster"] == "snapshot" else head["until"]
    d = roster_dir()
    tmp = d / f".incoming-{sha[:16]}-{os.getpid()}"
    with open(src, "rb") as fi, open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600),
                                      "wb") as fo:
        shutil.copyfileobj(fi, fo, 1 << 20)
        fo.flush()
        os.fsync(fo.fileno())
    try:
        with transaction.atomic():
            dup = RosterFile.objects.filter(sha256=sha).first()
            if dup:
                raise RosterError(f"this roster file is already published (file {dup.pk})")
            latest = RosterFile.objects.order_by("-version").values_list("version", flat=True).first()
            if head["roster"] == "delta" and latest is not None and head["since"] > latest:
                raise RosterError(f"the delta starts at version {head['since']} but the newest published is {latest}")
            rf = RosterFile.objects.create(kind=head["roster"], version=version, since=head.get("since"),
                                           as_of=head.get("as_of"), filename="", sha256=sha, size=size,
                                           gzip=head["gzip"], published_at=timezone.now())
            rf.filename = f"{rf.pk:06d}-{head['roster']}-{version}.jsonl" + (".gz" if head["gzip"] else "")
            rf.save(update_fields=["filename"])
            os.replace(tmp, d / rf.filename)
    finally:
        if tmp.exists():
            tmp.unlink()
    return describe(rf) | {"published_at": rf.published_at.isoformat()}


def describe(r: RosterFile) -> dict[str, Any]:
    return {"file_id": r.pk, "kind": r.kind, "version": r.version, "since": r.since, "size": r.size,
            "sha256": r.sha256, "gzip": r.gzip, "url": f"/v1/roster/files/{r.pk}"}


def updates(since: int | None) -> dict[str, Any]:
    """What a kiosk at version `since` needs: a chain of deltas when one exists, else the newest snapshot
    and the deltas after it."""
    rows = list(RosterFile.objects.order_by("version", "id"))
    if not rows:
        return {"latest_version": None, "up_to_date": False, "files": []}
    latest = max(r.version for r in rows)
    if since is not None and since >= latest:
        return {"latest_version": latest, "up_to_date": True, "files": []}
    deltas: dict[int, RosterFile] = {}
    for r in rows:
        if r.kind == "delta":
            deltas.setdefault(r.since, r)
    if since is not None:
        chain, v = [], since
        while v in deltas and v < latest:
            chain.append(deltas[v])
            v = deltas[v].version
        if v == latest:
            return {"latest_version": latest, "up_to_date": False, "files": [describe(r) for r in chain]}
    snaps = [r for r in rows if r.kind == "snapshot"]
    if not snaps:
        return {"latest_version": latest, "up_to_date": False, "files": [], "error": "no snapshot published"}
    snap = max(snaps, key=lambda r: (r.version, r.pk))
    chain, v = [snap], snap.version
    while v in deltas and v < latest:
        chain.append(deltas[v])
        v = deltas[v].version
    return {"latest_version": latest, "up_to_date": False, "files": [describe(r) for r in chain]}


def file_path(r: RosterFile) -> Path:
    return Path(settings.HUB_ROSTER_DIR) / r.filename


_RANGE = re.compile(r"\s*bytes\s*=\s*([0-9]*)\s*-\s*([0-9]*)\s*", re.ASCII)


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """`bytes=START-[END]` or `bytes=-SUFFIX` → inclusive (start, end); None for none or unsupported.
    Raises ValueError when it cannot be satisfied (416)."""
    if not header:
        return None
    m = _RANGE.fullmatch(header)
    if not m or (not m.group(1) and not m.group(2)):
        return None
    if len(m.group(1)) > 19 or len(m.group(2)) > 19:
        raise ValueError("unsatisfiable")
    if not m.group(1):
        suffix = int(m.group(2))
        if suffix == 0 or size == 0:
            raise ValueError("unsatisfiable")
        return max(0, size - suffix), size - 1
    start = int(m.group(1))
    end = int(m.group(2)) if m.group(2) else size - 1
    if start >= size or end < start:
        raise ValueError("unsatisfiable")
    return start, min(end, size - 1)
