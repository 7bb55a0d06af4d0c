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
import os
import pkgutil
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any, Callable

from kiosk import __version__, config as config_mod, logs, store
from kiosk.app import App, build
from kiosk.errors import EXIT_UNAVAILABLE, KioskError, UsageError, exit_code_for

log = logging.getLogger("kiosk.cli")


@dataclass
class Context:
    """What every command gets: parsed global options, the configuration loaded on first use, and the kiosk's
    parts built from it (kiosk.app: data key, roster key, clock; no devices) on first use."""

    args: argparse.Namespace
    stdout: Any = field(default_factory=lambda: sys.stdout)

    @cached_property
    def config(self) -> config_mod.Config:
        return config_mod.load(self.args.config, self.args.data_dir)

    @cached_property
    def app(self) -> App:
        """Refuses on a wiped device, or with a data key that is not the database's (kiosk.app.build)."""
        return build(self.config, "none")

    def db(self) -> store.Database:
        """A connection that opens personal fields under the device data key."""
        return self.app.database()

    def roster_key(self) -> bytes:
        return self.app.roster_key

    def emit(self, data: Any, human: str | Callable[[], str]) -> None:
        """Print `data` as one JSON document with --json, else the readable text (made safe for a terminal)."""
        if getattr(self.args, "json", False):
            print(json.dumps(data, ensure_ascii=False, indent=None, default=str), file=self.stdout)
        else:
            text = human() if callable(human) else human
            if text:
                print(readable(text), file=self.stdout)


# Terminal control in stored or scanned text (a name, a reason, a decoded QR): escape sequences whole (CSI; OSC,
# DCS, SOS, PM, APC up to their terminator or the end of the line; two-character escapes), in 7- and 8-bit forms.
_ESCAPES = re.compile(r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
                      r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c\n]*(?:\x07|\x1b\\|\x9c)?"
                      r"|\x1b[ -/]*[0-~]?")
# What is left: C0 (except tab and newline), DEL, C1, and the bidi embeddings, overrides and isolates that can
# make text read in another order than it is stored (U+202A-U+202E, U+2066-U+2069).
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_SURROGATES = re.compile("[\ud800-\udfff]")  # undecodable bytes carried through from argv or a file name


def readable(text: Any, *, one_line: bool = False) -> str:
    """`text` safe to print on a terminal: no control characters, escape sequences or bidi overrides.

    Every readable (non-JSON) output goes through this (Context.emit, error lines), so a name read from a card
    or typed at the desk cannot retitle, clear or rewrite the technician's terminal. `one_line` also turns
    tabs and newlines into spaces, for a stored value inside a line of a listing.
    """
    text = _CONTROLS.sub("", _ESCAPES.sub("", str(text)))
    text = _SURROGATES.sub("\ufffd", text)
    return " ".join(text.split()) if one_line else text


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
        _refuse_undecodable(parser, args)
        return int(args.func(ctx) or 0)
    except KioskError as e:
        print(f"error: {readable(e)}", file=sys.stderr)
        return exit_code_for(e)
    except UnicodeError as e:  # text from argv, the environment or stdin that is not UTF-8, caught late
        log.warning("event=bad_input_encoding command=%s error=%s", args.command, type(e).__name__)
        print("error: some text given to the command (an argument, an environment variable or standard input) "
              "is not valid UTF-8; give it as UTF-8 text", file=sys.stderr)
        return exit_code_for(e)
    except (KeyboardInterrupt, BrokenPipeError) as e:
        return exit_code_for(e)
    except Exception as e:
        log.exception("event=unexpected_error command=%s", args.command)
        code = exit_code_for(e)  # a library's device, disk or network error escaping a command is still exit 3
        print(f"error: a device, the disk or the network is unavailable ({type(e).__name__}); see the log"
              if code == EXIT_UNAVAILABLE else "error: unexpected failure; see the log for where it happened",
              file=sys.stderr)
        return code


_PATH_METAVAR = re.compile(r"FILE|DIR|PATH|IMAGE|PORT")


def _refuse_undecodable(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Refuse a text argument holding bytes that are not UTF-8 (Python carries them as lone surrogates).

    File names may be any bytes, so options whose metavar says FILE, DIR, PATH, IMAGE or PORT pass; a scanned
    payload passes too, so the document parser says where its bytes go wrong (as `kiosk parse` does).
    """
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            chosen = getattr(args, action.dest, None)
            if chosen in action.choices:
                _refuse_undecodable(action.choices[chosen], args)
            continue
        value = getattr(args, action.dest, None)
        if action.dest == "payload" or _PATH_METAVAR.search(str(action.metavar or "")):
            continue
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, str) and (bad := _SURROGATES.search(v)):
                name = action.option_strings[-1] if action.option_strings else (action.metavar or action.dest)
                byte = ord(bad.group()) - 0xdc00  # surrogateescape: U+DC80..U+DCFF stand for bytes 0x80..0xFF
                what = f"invalid byte 0x{byte:02x}" if 0x80 <= byte <= 0xff else "invalid text"
                raise UsageError(f"{name}: expected UTF-8 text, {what} at offset {len(os.fsencode(v[:bad.start()]))}")


def parse_date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{option}: expected a date as YYYY-MM-DD, got {text!r}") from None


_ASCII_INT = re.compile(r"[+-]?[0-9]+", re.ASCII)
_ASCII_FLOAT = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)", re.ASCII)


def ascii_int(text: str) -> int:
    """An argparse type: int() alone takes ٣ or ３; a person's full-width digits are fine (NFKC), other scripts not."""
    t = unicodedata.normalize("NFKC", text).strip()
    if not _ASCII_INT.fullmatch(t):
        raise argparse.ArgumentTypeError(f"expected a whole number in ASCII digits, got {readable(text)!r}")
    return int(t)


def ascii_float(text: str) -> float:
    """An argparse type: a decimal number in ASCII digits (no nan/inf, no other scripts' digits)."""
    t = unicodedata.normalize("NFKC", text).strip()
    if not _ASCII_FLOAT.fullmatch(t):
        raise argparse.ArgumentTypeError(f"expected a number in ASCII digits, got {readable(text)!r}")
    return float(t)
