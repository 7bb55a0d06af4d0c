"""The chip library's own errors. Nothing else escapes the reader.

They belong to the kiosk's one error family (kiosk.errors), so their exit
status comes from the class they also are: wrong key → a UsageError (2),
reader, card or PC/SC service gone → an UnavailableError (3), anything else
→ 1. `NoCard` is also the family's `kiosk.errors.NoCard`, so code outside the
chip library tells "no card yet" from "no reader" by type.
"""

from __future__ import annotations

from kiosk import errors


class ChipError(errors.KioskError):
    """Any failure talking to or understanding the chip (exit status 1 unless a subclass says otherwise)."""


class ReaderUnavailable(ChipError, errors.UnavailableError):
    """No PC/SC service, no reader matching the configuration, or no card on it."""


class NoCard(ReaderUnavailable, errors.NoCard):
    """The reader is there, but no card is on it (or none answers the power-up)."""


class CardRemoved(ReaderUnavailable):
    """The card left the field (or the reader went away) in the middle of a session."""


class AccessDenied(ChipError, errors.UsageError):
    """The chip refused the key we derived: the number (CAN/MRZ) does not open this card."""


class WrongNumber(AccessDenied):
    """Every access the given number allows (PACE, then BAC) was tried and the chip refused them all."""


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
