"""One error family, and the one mapping from any exception to the CLI exit status (docs/cli.md).

Exit status: 0 done, 2 bad usage/configuration/input, 3 a device, the
network or the hub unavailable, 1 anything else. Our own errors carry their
status as `exit_code` on the class (`KioskError` and its subclasses; the chip
library's `ChipError`, the printer's `PrinterError` and the audit trail's
`AuditError` join the family, and a document parser's `ParseError` is a
`UsageError`: bad input). Errors raised by libraries — pyserial,
pyscard, requests, sqlite3, the OS — are mapped in `exit_code_for`, the only
place that decides a status, so the CLI, the doctor and the UI agree.

The UI recognises errors with `isinstance` against these classes, never by
class name or message text.
"""

from __future__ import annotations

import errno

EXIT_OK = 0
EXIT_OTHER = 1
EXIT_USAGE = 2
EXIT_UNAVAILABLE = 3
EXIT_INTERRUPTED = 130  # the shell's convention for Ctrl-C (128 + SIGINT)


class KioskError(Exception):
    """A failure with a one-line reason for the person at the kiosk."""

    exit_code = EXIT_OTHER


class ReasonError(KioskError):
    """A refused action whose `reason` is a stable key the UI translates; the message is for logs and the CLI."""

    def __init__(self, reason: str, message: str = ""):
        super().__init__(message or reason)
        self.reason = reason


class UsageError(KioskError):
    """Bad usage, configuration or input: exit status 2."""

    exit_code = EXIT_USAGE


class ConfigError(UsageError):
    """A configuration key is unknown or has a wrong value."""


class UnavailableError(KioskError):
    """A device, the network or the hub is unavailable: exit status 3."""

    exit_code = EXIT_UNAVAILABLE


class NoCard(UnavailableError):
    """The reader is there but no card is on it (or none answers): wait for one, it is not a fault.

    The chip library raises its own subclass (drivers.chip.errors.NoCard, also a ReaderUnavailable);
    callers that only need "no card" catch this class.
    """


# OS errors that mean the disk, a device or the network is not there (exit 3). Others stay 1: a
# permission problem or a missing file is a bug or a provisioning fault, and says so in the message.
_UNAVAILABLE_ERRNOS = frozenset(
    getattr(errno, name) for name in (
        "ENOSPC", "EDQUOT", "EIO", "EROFS", "ENODEV", "ENXIO", "EBUSY", "ENOMEDIUM", "ETIMEDOUT",
        "ECONNREFUSED", "ECONNRESET", "ECONNABORTED", "EHOSTUNREACH", "ENETUNREACH", "ENETDOWN", "EHOSTDOWN",
    ) if hasattr(errno, name))

# Library errors are matched by the module and name of the classes in the exception's MRO instead of
# importing the libraries: pyserial and pyscard are optional (the `chip`/`serial` extras), requests is
# heavy to import at every CLI start, and sqlite3 may be imported only by kiosk.store (the import
# contract in pyproject.toml). A library's module path is stable across its releases; each prefix
# below names the base class its errors share.
_UNAVAILABLE_TYPES = (
    ("serial", "SerialException"),            # pyserial: port gone, busy, unplugged mid-read
    ("smartcard", "SmartcardException"),       # pyscard: no card, card gone, readers not listable
    ("smartcard", "BaseSCardException"),       # pyscard's PC/SC layer: pcscd not running
    ("urllib3", "HTTPError"),                  # below requests: connection refused, TLS, timeouts
    ("requests", "RequestException"),
)
# requests' errors that say the URL itself is wrong: the configuration, not the network.
_USAGE_TYPES = (
    ("requests", "InvalidURL"), ("requests", "MissingSchema"), ("requests", "InvalidSchema"),
    ("requests", "InvalidHeader"), ("requests", "URLRequired"),
)
# SQLite's messages for a full disk or a failing medium (sqlite3.OperationalError / DatabaseError).
_SQLITE_UNAVAILABLE = ("database or disk is full", "disk i/o error")


def _matches(exc: BaseException, table: tuple[tuple[str, str], ...]) -> bool:
    for cls in type(exc).__mro__:
        top = cls.__module__.split(".", 1)[0]
        if any(top == module and cls.__name__ == name for module, name in table):
            return True
    return False


def exit_code_for(exc: BaseException) -> int:
    """The CLI exit status for `exc`: 2 bad input, 3 device/network unavailable, 130 interrupted, else 1."""
    if isinstance(exc, KioskError):
        return int(exc.exit_code)
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(exc, SystemExit):
        code = exc.code
        return code if isinstance(code, int) else (EXIT_OK if code is None else EXIT_OTHER)
    if isinstance(exc, UnicodeError):  # text given to a command that is not UTF-8
        return EXIT_USAGE
    if _matches(exc, _USAGE_TYPES):
        return EXIT_USAGE
    if _matches(exc, _UNAVAILABLE_TYPES):
        return EXIT_UNAVAILABLE
    if any(c.__module__ == "sqlite3" for c in type(exc).__mro__):
        message = str(exc).lower()
        return EXIT_UNAVAILABLE if any(m in message for m in _SQLITE_UNAVAILABLE) else EXIT_OTHER
    if isinstance(exc, BrokenPipeError):  # our stdout closed (`kiosk … | head`): not the network
        return EXIT_OTHER
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return EXIT_UNAVAILABLE
    if isinstance(exc, OSError) and exc.errno in _UNAVAILABLE_ERRNOS:
        return EXIT_UNAVAILABLE
    return EXIT_OTHER
