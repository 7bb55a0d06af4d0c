"""Structured, privacy-safe logging.

Log lines are `key=value` records. Callers never pass names, ID numbers, card
numbers or addresses; as a second line of defence, :class:`RedactFilter`
masks any run of 9 or more digits and any BHYT card code that slips into a
message.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import TextIO

_DIGITS = re.compile(r"\d{9,}")
_BHYT_CODE = re.compile(r"\b[A-Z]{2}\d{13}\b")


def redact(text: str) -> str:
    text = _BHYT_CODE.sub(lambda m: "*" * 11 + m.group()[-4:], text)
    return _DIGITS.sub(lambda m: "*" * (len(m.group()) - 4) + m.group()[-4:], text)


class RedactFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        safe = redact(message)
        if safe != message:
            record.msg, record.args = safe, None
        return True


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        ts = self.formatTime(record, "%Y-%m-%dT%H:%M:%S")
        line = f"ts={ts} level={record.levelname.lower()} logger={record.name} {record.getMessage()}"
        if record.exc_info:
            # The exception type and where it happened, not its message: messages can quote data.
            etype, _, tb = record.exc_info
            where = ""
            while tb is not None:
                where = f"{'/'.join(tb.tb_frame.f_code.co_filename.rsplit('/', 2)[-2:])}:{tb.tb_lineno}"
                tb = tb.tb_next
            line += f" exc={etype.__name__ if etype else '?'} at={where}"
        return line


def event(logger: logging.Logger, name: str, level: int = logging.INFO, /, **fields: object) -> None:
    """Log one event as `event=<name> k=v ...`; values must be non-personal."""
    parts = [f"event={name}"] + [f"{k}={_quote(v)}" for k, v in fields.items()]
    logger.log(level, " ".join(parts))


def _quote(v: object) -> str:
    s = str(v)
    return f'"{s}"' if (" " in s or not s) else s


def setup(level: str = "INFO", stream: TextIO | None = None) -> None:
    root = logging.getLogger()
    if any(getattr(h, "_kiosk", False) for h in root.handlers):
        return
    handler = logging.StreamHandler(stream or sys.stderr)
    handler._kiosk = True  # type: ignore[attr-defined]
    handler.setFormatter(KeyValueFormatter())
    handler.addFilter(RedactFilter())
    root.addHandler(handler)
    root.setLevel(level)
