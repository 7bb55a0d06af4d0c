"""The configuration and the secret files it names (tokens, keys), checked first."""

from __future__ import annotations

import os
from pathlib import Path

from kiosk import config as config_mod
from kiosk.doctor.base import FAILURE, OK, WARNING, Env, Finding
from kiosk.eligibility import roster
from kiosk.errors import ConfigError


def check_config(env: Env) -> Finding:
    t = env.t
    try:
        cfg = config_mod.load(env.config_file, env.data_dir_override, env.environ)
    except ConfigError as e:
        env.config_error = str(e)
        # Go on with the defaults so the other checks still tell what they can.
        defaults = {k.dotted: k.default for k in config_mod.SCHEMA}
        chosen = env.data_dir_override or env.environ.get("KIOSK_DATA_DIR") or (
            "/var/lib/kiosk" if Path("/var/lib/kiosk").is_dir() else str(config_mod.default_data_dir()))
        defaults["storage.data_dir"] = chosen
        env.config = config_mod.Config(defaults, "built-in defaults (configuration broken)")
        return Finding("config", FAILURE, t("config.broken", error=e), t("config.broken_action"), {"error": str(e)})
    env.config = cfg
    details = {"source": cfg.source, "facility_code": cfg["facility.code"], "data_dir": str(cfg.data_dir)}
    if cfg.source == "built-in defaults":
        return Finding("config", WARNING, t("config.defaults"), t("config.defaults_action"), details)
    return Finding("config", OK, t("config.ok", source=cfg.source, facility=cfg["facility.code"]), details=details)


def _secret_state(path: str) -> str | None:
    """None when the file is fine; else the problem: missing, unreadable, world_accessible."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        return "missing"
    except PermissionError:
        return "unreadable"
    if st.st_mode & 0o007:
        return "world_accessible"
    if not os.access(p, os.R_OK):
        return "unreadable"
    return None


def check_secrets(env: Env) -> Finding:
    t = env.t
    cfg = env.config
    files = {"upstream.token_file": cfg["upstream.token_file"] if cfg["upstream.url"] else "",
             "roster.key_file": cfg["roster.key_file"]}
    if "privacy.data_key_file" in cfg.values:
        files["privacy.data_key_file"] = cfg["privacy.data_key_file"]
    # The TLS client key HubClient presents (in client_key, or inside client_cert) is a secret too.
    if cfg["upstream.url"]:
        for key in ("upstream.client_cert", "upstream.client_key"):
            if cfg[key]:
                files[key] = cfg[key]
    problems: dict[str, str] = {}
    for key, path in files.items():
        if path:
            bad = _secret_state(path)
            if bad:
                problems[key] = f"{path}: {bad}"
    if not problems and cfg["roster.key_file"]:
        try:
            roster.load_key(cfg["roster.key_file"])
        except ConfigError as e:
            problems["roster.key_file"] = str(e)
    unset = [k for k, v in files.items() if not v]
    details = {"files": {k: v for k, v in files.items() if v}, "problems": problems, "not_set": unset}
    if problems:
        listed = "; ".join(f"{k} ({v})" for k, v in problems.items())
        return Finding("secrets", FAILURE, t("secrets.problems", problems=listed), t("secrets.problems_action"),
                       details)
    if "roster.key_file" in unset:
        return Finding("secrets", WARNING, t("secrets.no_roster_key"), t("secrets.no_roster_key_action"), details)
    return Finding("secrets", OK, t("secrets.ok"), details=details)
