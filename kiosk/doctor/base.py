"""What every doctor check shares: the finding it returns, the report, and the environment it reads."""

from __future__ import annotations

import os
import socket
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from kiosk import __version__, config as config_mod
from kiosk.text import t as text

OK, WARNING, FAILURE, SKIPPED = "ok", "warning", "failure", "skipped"
RANK = {OK: 0, SKIPPED: 0, WARNING: 1, FAILURE: 2}

# Thresholds a technician can reason about.
DISK_FAIL_BYTES = 200 * 1024 * 1024
DISK_WARN_BYTES = 1024 * 1024 * 1024
CERT_WARN_DAYS = 30
ROSTER_WARN_DAYS = 2      # the roster timer runs nightly
ROSTER_FAIL_DAYS = 30
OUTBOX_WARN_HOURS = 24
NET_TIMEOUT = 5.0


@dataclass
class Finding:
    check: str
    status: str
    found: str
    action: str = ""
    details: dict[str, Any] = field(default_factory=dict)


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class Report:
    findings: list[Finding]
    version: str = __version__
    host: str = field(default_factory=socket.gethostname)
    checked_at: str = field(default_factory=_now_iso)

    @property
    def status(self) -> str:
        worst = max((RANK[f.status] for f in self.findings), default=0)
        return {0: OK, 1: WARNING, 2: FAILURE}[worst]

    @property
    def exit_code(self) -> int:
        return RANK[self.status]

    def to_json(self) -> dict[str, Any]:
        return {"host": self.host, "version": self.version, "checked_at": self.checked_at,
                "status": self.status, "exit_code": self.exit_code,
                "checks": [asdict(f) for f in self.findings]}


class Env:
    """What the checks share: the language, the configuration (or the fallback) and how it was obtained."""

    def __init__(self, lang: str, config_file: str | None, data_dir: str | None, environ: dict[str, str]):
        self.lang = lang
        self.config_file = config_file
        self.data_dir_override = data_dir
        self.environ = environ
        self._config: config_mod.Config | None = None
        self.config_error: str | None = None

    @property
    def config(self) -> config_mod.Config:
        """The configuration check_config loaded (or its fallback); it always runs first."""
        if self._config is None:
            raise RuntimeError("the config check runs before the others")
        return self._config

    @config.setter
    def config(self, cfg: config_mod.Config) -> None:
        self._config = cfg

    def t(self, key: str, **fields: object) -> str:
        """Message `key` of the catalogue (kiosk/text/messages.toml, under doctor.*) in the report's language."""
        return text(f"doctor.{key}", self.lang, **fields)


class HandBack:
    """Give -wal/-shm files that this (root) process creates back to the database file's owner.

    Opening the database read-only as root must not leave root-owned `-wal`/`-shm` files behind: they would
    lock the kiosk user out.
    """

    def __init__(self, db: Path):
        self.db = db
        self.extra = [Path(f"{db}-wal"), Path(f"{db}-shm")]
        self.before = {p: p.exists() for p in self.extra}

    def restore(self) -> None:
        if os.geteuid() != 0:
            return
        try:
            st = self.db.stat()
        except OSError:
            return
        for p in self.extra:
            if not self.before[p] and p.exists():
                try:
                    os.chown(p, st.st_uid, st.st_gid)
                except OSError:
                    pass
