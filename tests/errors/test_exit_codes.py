"""Every error the kiosk raises or lets through maps to the exit status docs/cli.md gives it, in one place."""

from __future__ import annotations

import errno
import sqlite3

import pytest
import requests
import serial
from smartcard.Exceptions import CardConnectionException, NoCardException
from smartcard.pcsc.PCSCExceptions import EstablishContextException

from drivers.chip import errors as chip
from drivers.printer import PrinterError
from kiosk import errors
from kiosk.documents import ParseError
from kiosk.errors import exit_code_for
from kiosk.privacy.audit import AuditError

TABLE: list[tuple[BaseException, int]] = [
    # the family
    (errors.KioskError("x"), 1),
    (errors.ReasonError("closed"), 1),
    (errors.UsageError("x"), 2),
    (errors.ConfigError("x"), 2),
    (errors.UnavailableError("x"), 3),
    (errors.NoCard("x"), 3),
    (ParseError("id_number: expected 12 digits", "id_number"), 2),  # a scanned or typed document: bad input
    (chip.ChipError("x"), 1),
    (chip.ProtocolError("x"), 1),
    (chip.SecureMessagingError("x"), 1),
    (chip.ParseError("x"), 1),
    (chip.StatusError(0x6F00), 1),
    (chip.FileNotFound(0x6A82), 1),
    (chip.AccessDenied("x"), 2),
    (chip.WrongNumber("x"), 2),
    (chip.ReaderUnavailable("x"), 3),
    (chip.NoCard("x"), 3),
    (chip.CardRemoved("x"), 3),
    (PrinterError("offline"), 3),
    (PrinterError("paper_out"), 3),
    (AuditError("x"), 1),
    # libraries
    (serial.SerialException("could not open port"), 3),
    (serial.SerialTimeoutException("write timeout"), 3),
    (NoCardException("no card", 0), 3),
    (CardConnectionException("gone"), 3),
    (EstablishContextException(0x8010001D), 3),
    (requests.exceptions.ConnectionError("refused"), 3),
    (requests.exceptions.Timeout("slow"), 3),
    (requests.exceptions.SSLError("bad cert"), 3),
    (requests.exceptions.HTTPError("503"), 3),
    (requests.exceptions.MissingSchema("no scheme"), 2),
    (requests.exceptions.InvalidURL("bad"), 2),
    (sqlite3.OperationalError("database or disk is full"), 3),
    (sqlite3.OperationalError("disk I/O error"), 3),
    (sqlite3.OperationalError("no such table: visits"), 1),
    (sqlite3.IntegrityError("UNIQUE constraint failed"), 1),
    (OSError(errno.ENOSPC, "No space left on device"), 3),
    (OSError(errno.EIO, "Input/output error"), 3),
    (OSError(errno.ENODEV, "No such device"), 3),
    (OSError(errno.EACCES, "Permission denied"), 1),
    (FileNotFoundError(errno.ENOENT, "No such file"), 1),
    (ConnectionRefusedError(), 3),
    (TimeoutError(), 3),
    (BrokenPipeError(), 1),
    (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), 2),
    (KeyboardInterrupt(), 130),
    (SystemExit(2), 2),
    (ValueError("bug"), 1),
    (RuntimeError("bug"), 1),
]


@pytest.mark.parametrize("exc, code", TABLE, ids=[f"{type(e).__module__}.{type(e).__name__}:{e}"[:60]
                                                   for e, _ in TABLE])
def test_exit_code_for(exc, code):
    assert exit_code_for(exc) == code


def test_the_chip_library_and_the_printer_join_the_family():
    for cls in (chip.ChipError, PrinterError, AuditError):
        assert issubclass(cls, errors.KioskError)
    assert issubclass(ParseError, errors.UsageError) and issubclass(ParseError, ValueError)
    assert issubclass(chip.NoCard, errors.NoCard) and issubclass(chip.NoCard, chip.ReaderUnavailable)
    assert issubclass(chip.AccessDenied, errors.UsageError)
    assert issubclass(PrinterError, errors.UnavailableError)


def test_a_subclass_defined_elsewhere_keeps_its_family_status():
    class Custom(errors.UnavailableError):
        pass
    assert exit_code_for(Custom("x")) == 3


def test_the_cli_exits_with_the_mapped_status(monkeypatch, capsys):
    """main() hands anything a command raises to exit_code_for: a library error escaping a command too."""
    from kiosk import cli

    def boom(ctx):
        raise serial.SerialException("[Errno 2] could not open port /dev/ttyACM9")
    parser = cli.build_parser()
    real_parse = parser.parse_args

    def parse(argv=None):
        args = real_parse(["doctor"])
        args.func = boom
        return args
    monkeypatch.setattr(parser, "parse_args", parse)
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    assert cli.main([]) == 3
    assert "error: a device, the disk or the network is unavailable (SerialException)" in capsys.readouterr().err
