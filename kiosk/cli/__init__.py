"""The `kiosk` command line: one program, a subcommand per tool.

Conventions (docs/cli.md): readable masked output by default, one JSON
document with `--json`; exit 0 done, 2 bad usage/configuration/input,
3 device/network/hub unavailable, 1 anything else.

Subcommands live in `kiosk/cli/commands/*.py`; each module has
`register(subparsers)` and is discovered at start, so a new tool is a new
file, not an edit here.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import pkgutil
import sys
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Callable

from kiosk import __version__, config as config_mod, logs
from kiosk.errors import KioskError, UsageError

log = logging.getLogger("kiosk.cli")


@dataclass
class Context:
    """What every command gets: parsed global options, and the configuration loaded on first use."""

    args: argparse.Namespace
    stdout: Any = field(default_factory=lambda: sys.stdout)

    @cached_property
    def config(self) -> config_mod.Config:
        return config_mod.load(self.args.config, self.args.data_dir)

    def db(self):
        from kiosk import datakey, store
        key = datakey.load(self.config)  # refuses on a wiped device; personal fields open under this key
        db = store.connect(self.config.database)
        datakey.bind(db.conn, key)
        return db

    def roster_key(self) -> bytes:
        from kiosk import roster
        return roster.load_key(self.config["roster.key_file"])

    def emit(self, data: Any, human: str | Callable[[], str]) -> None:
        """Print `data` as one JSON document with --json, else the readable text."""
        if getattr(self.args, "json", False):
            print(json.dumps(data, ensure_ascii=False, indent=None, default=str), file=self.stdout)
        else:
            text = human() if callable(human) else human
            if text:
                print(text, file=self.stdout)


class _Parser(argparse.ArgumentParser):
    # argparse exits with 2 on bad usage already; keep its message to one line.
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="kiosk", description="Clinic ID kiosk for commune health stations (trạm y tế xã).")
    parser.add_argument("--version", action="version", version=f"kiosk {__version__}")
    parser.add_argument("--config", metavar="FILE", help="configuration file (default: $KIOSK_CONFIG, "
                        "then /etc/kiosk/kiosk.toml, then built-in defaults)")
    parser.add_argument("--data-dir", metavar="DIR", help="put the database and all state in DIR "
                        "(default: $KIOSK_DATA_DIR, then storage.data_dir)")
    parser.add_argument("--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                        help="log detail on stderr (default WARNING)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for info in sorted(pkgutil.iter_modules(importlib.import_module("kiosk.cli.commands").__path__),
                       key=lambda m: m.name):
        module = importlib.import_module(f"kiosk.cli.commands.{info.name}")
        module.register(sub)
    return parser


def add_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print one JSON document instead of text")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logs.setup(args.log_level)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    ctx = Context(args)
    try:
        return int(args.func(ctx) or 0)
    except KioskError as e:
        print(f"error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 1
    except Exception:
        log.exception("event=unexpected_error command=%s", args.command)
        print("error: unexpected failure; see the log for where it happened", file=sys.stderr)
        return 1


def parse_date(text: str, option: str):
    from datetime import date
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{option}: expected a date as YYYY-MM-DD, got {text!r}") from None
