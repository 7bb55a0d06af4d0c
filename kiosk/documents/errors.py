"""The parsers' one error: what was scanned or typed is not a document the kiosk reads.

It is bad input, so it belongs to kiosk.errors' family as a `UsageError`
(exit status 2 wherever it escapes to the command line), and it stays a
`ValueError`, as a parser's refusal of a value conventionally is.
"""

from __future__ import annotations

from kiosk.errors import UsageError


class ParseError(UsageError, ValueError):
    """A payload that is not a document the kiosk reads; the message names the field and what was expected."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field
