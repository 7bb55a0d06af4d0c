"""docs/fhir.md's example Bundles parse with both libraries, and each case's resources are all there."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.hub.fhir.validate import parse_both

DOC = Path(__file__).resolve().parents[3] / "docs" / "fhir.md"


def test_the_examples_in_docs_fhir_md_validate():
    blocks = re.findall(r"```json\n(.*?)\n```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 8
    for block in blocks:
        bundle = json.loads(block)
        parse_both(bundle)
        types = [e["resource"]["resourceType"] for e in bundle["entry"]]
        assert types[:2] == ["Encounter", "Patient"], types
