"""Print docs/fhir.md's example Bundles (one per case of the corpus): `python -m tests.hub.fhir.examples`."""

from __future__ import annotations

import json
import os
import random
import sys

CASES = {"plain": "A CCCD chip read with a legacy BHYT card, valid (000)",
         "year_only": "A birth date known only by its year",
         "passport": "A foreigner identified by passport (contract 1.2.0 fields), not checked (K02)",
         "child_under_6": "A child under 6 with no ID number, by BHYT card (TE)",
         "expired_card": "An expired card (010), with its validity period",
         "replaced_card": "A replaced card (003/004) and the registered facility",
         "id_as_card": "The 12-digit ID number as the card number (Decree 188/2025)",
         "contract_1_2": "Everything contract 1.2.0 adds: services, identity flags, queue state, old ID number"}


def bundles() -> list[tuple[str, dict]]:
    from kiosk_hub.fhir import builders
    from tests.hub.fhir import corpus
    from tests.hub.fhir.test_resources import facts_of
    rng = random.Random(2026)
    out = []
    for i, (kind, title) in enumerate(CASES.items()):
        p = corpus.case(kind, rng)
        if kind == "contract_1_2":
            p["status"] = "being_seen"
        f = facts_of(p, pk=1000 + i)
        res = [builders.encounter(f), builders.patient(f), builders.coverage(f), builders.eligibility_response(f)]
        entries = [{"fullUrl": f"https://hub.example/fhir/R4/{r['resourceType']}/{r['id']}", "resource": r,
                    "search": {"mode": "match" if r["resourceType"] == "Encounter" else "include"}}
                   for r in res if r is not None]
        out.append((title, {"resourceType": "Bundle", "type": "searchset", "total": 1, "entry": entries}))
    return out


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kiosk_hub.settings")
    os.environ.setdefault("KIOSK_HUB_SECRET_KEY", "docs-example-key")
    os.environ.setdefault("KIOSK_HUB_DATA_DIR", "/tmp/kiosk-hub-docs")
    import django
    django.setup()
    for title, b in bundles():
        head = json.dumps({k: v for k, v in b.items() if k != "entry"}, ensure_ascii=False)[:-1]
        entries = ",\n  ".join(json.dumps(e, ensure_ascii=False) for e in b["entry"])
        sys.stdout.write(f"### {title}\n\n```json\n{head}, \"entry\": [\n  {entries}\n]}}\n```\n\n")
