from __future__ import annotations


class ParseError(ValueError):
    """A payload that is not a document the kiosk reads; the message names the field and what was expected."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field
