"""`kiosk doctor`: what a technician on the phone needs to know about a kiosk, check by check.

Every check returns a :class:`Finding` — what it found and what to do about
it — and never raises: a check that cannot run is itself a finding. The
configuration is checked first and a broken one does not stop the rest
(they fall back to the built-in defaults and say so). Status per check:
``ok``, ``warning``, ``failure``, or ``skipped`` (not configured on purpose,
or not available in this version); the exit status is 0 / 1 / 2 for the
worst of ok / warning / failure.

The checks live by subject — :mod:`.config` (configuration, secrets),
:mod:`.storage` (database, disk, roster, outbox), :mod:`.system` (clock,
watchdog), :mod:`.devices` (each driver's own `probe()`), :mod:`.network`
(the hub through the sync's own HubClient) — so they check what the kiosk
really uses instead of a copy of it that drifts. Their text is in the
catalogue (kiosk/text/messages.toml, keys `doctor.*`), in Vietnamese and
English. Nothing here writes to the database.
"""

from __future__ import annotations

import logging
import os
from typing import Callable

from kiosk.doctor.base import FAILURE, OK, SKIPPED, WARNING, Env, Finding, Report
from kiosk.doctor.config import check_config, check_secrets
from kiosk.doctor.devices import check_camera, check_pcscd, check_printer, check_scanner, check_voice
from kiosk.doctor.network import check_hub
from kiosk.doctor.storage import check_database, check_disk, check_outbox, check_roster
from kiosk.doctor.system import check_clock, check_watchdog
from kiosk.text import t

__all__ = ["CHECKS", "FAILURE", "OK", "SKIPPED", "WARNING", "Env", "Finding", "Report", "render", "run"]

log = logging.getLogger(__name__)

Check = Callable[[Env], "Finding | list[Finding]"]

CHECKS: list[tuple[str, Check]] = [
    ("config", check_config), ("secrets", check_secrets), ("database", check_database), ("disk", check_disk),
    ("clock", check_clock), ("pcscd", check_pcscd), ("scanner", check_scanner), ("camera", check_camera),
    ("printer", check_printer), ("voice", check_voice), ("hub", check_hub), ("roster", check_roster),
    ("outbox", check_outbox), ("watchdog", check_watchdog),
]


def run(lang: str = "vi", config_file: str | None = None, data_dir: str | None = None,
        environ: dict[str, str] | None = None, only: set[str] | None = None) -> Report:
    env = Env(lang, config_file, data_dir, dict(os.environ) if environ is None else environ)
    findings: list[Finding] = []
    for name, fn in CHECKS:
        if only and name != "config" and name not in only:
            continue
        try:
            got = fn(env)
        except Exception as e:  # a broken check is a finding, never a crash
            log.warning("event=doctor_check_crashed check=%s exc=%s", name, type(e).__name__)
            got = Finding(name, FAILURE, env.t("crashed", error=type(e).__name__), env.t("crashed_action"),
                          {"error": type(e).__name__})
        findings.extend(got if isinstance(got, list) else [got])
    return Report(findings)


_MARK = {OK: "✔", WARNING: "!", FAILURE: "✘", SKIPPED: "–"}
_WORD = {OK: "doctor.status.ok", WARNING: "doctor.status.warning", FAILURE: "doctor.status.failure",
         SKIPPED: "doctor.status.skipped"}
_SUMMARY = {OK: "doctor.summary.ok", WARNING: "doctor.summary.warning", FAILURE: "doctor.summary.failure"}


def render(report: Report, lang: str = "vi") -> str:
    lines = [t("doctor.report.title", lang, host=report.host, version=report.version)]
    for f in report.findings:
        lines.append(f"{_MARK[f.status]} [{t(_WORD[f.status], lang)}] {f.check}: {f.found}")
        if f.action and f.status != OK:
            lines.append("    → " + t("doctor.report.to_do", lang, action=f.action))
    lines.append(t(_SUMMARY[report.status], lang))
    return "\n".join(lines)
