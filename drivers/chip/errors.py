"""The chip library's own errors. Nothing else escapes the reader.

Each carries `exit_code` like kiosk.errors so the CLI can map it: wrong key
or unusable input → 2, card/reader gone → 3, anything else → 1.
"""

from __future__ import annotations


class ChipError(Exception):
    """Any failure talking to or understanding the chip."""

    exit_code = 1


class ReaderUnavailable(ChipError):
    """No PC/SC service, no reader matching the configuration, or no card on it."""

    exit_code = 3


class CardRemoved(ReaderUnavailable):
    """The card left the field (or the reader went away) in the middle of a session."""


class AccessDenied(ChipError):
    """The chip refused the key we derived: the number (CAN/MRZ) does not open this card."""

    exit_code = 2


class StatusError(ChipError):
    """The chip answered a command with an error status word."""

    def __init__(self, sw: int, what: str = ""):
        self.sw = sw
        super().__init__(f"{what or 'command'} failed with status {sw:04X}")


class FileNotFound(StatusError):
    """The file does not exist on this chip (6A82)."""


class SecurityNotSatisfied(StatusError):
    """The file needs an access right we do not have (6982), e.g. DG3 fingerprints."""


class ProtocolError(ChipError):
    """A response we cannot make sense of: bad length, bad TLV, wrong structure."""


class SecureMessagingError(ProtocolError):
    """A protected response failed its MAC or was not protected as required."""


class ParseError(ProtocolError):
    """A data group or EF.SOD is malformed."""
