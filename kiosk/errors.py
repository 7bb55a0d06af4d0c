"""Errors that carry the CLI exit status they map to (see docs/cli.md)."""

from __future__ import annotations


class KioskError(Exception):
    """A failure with a one-line reason for the person at the kiosk."""

    exit_code = 1


class ReasonError(KioskError):
    """A refused action whose `reason` is a stable key the UI translates; the message is for logs and the CLI."""

    def __init__(self, reason: str, message: str = ""):
        super().__init__(message or reason)
        self.reason = reason


class UsageError(KioskError):
    """Bad usage, configuration or input: exit status 2."""

    exit_code = 2


class ConfigError(UsageError):
    """A configuration key is unknown or has a wrong value."""


class UnavailableError(KioskError):
    """A device, the network or the hub is unavailable: exit status 3."""

    exit_code = 3
