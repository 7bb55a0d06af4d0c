"""Remember which visit each emitted Patient/Coverage id came from, per facility (models.ResourceLink)."""

from __future__ import annotations

from .models import ResourceLink


def note(emitted: list[tuple[str, str, str, int]]) -> None:
    """`emitted`: (kind, rid, facility code, visit pk). Keeps the newest visit per (kind, rid, facility)."""
    best: dict[tuple[str, str, str], int] = {}
    for kind, rid, fac, pk in emitted:
        k = (kind, rid, fac)
        best[k] = max(best.get(k, 0), pk)
    if not best:
        return
    rids = {rid for _, rid, _ in best}
    have = {(l.kind, l.rid, l.facility_id): l for l in ResourceLink.objects.filter(rid__in=rids)}
    new, newer = [], []
    for (kind, rid, fac), pk in best.items():
        link = have.get((kind, rid, fac))
        if link is None:
            new.append(ResourceLink(kind=kind, rid=rid, facility_id=fac, visit_id=pk))
        elif link.visit_id < pk:
            link.visit_id = pk
            newer.append(link)
    if new:
        ResourceLink.objects.bulk_create(new, ignore_conflicts=True)   # a concurrent reader wrote the same
    if newer:
        ResourceLink.objects.bulk_update(newer, ["visit"])
