"""The CLI's failure kinds (docs/cli.md exit codes)."""


class UsageError(Exception):
    """Bad usage, configuration or input: exit 2."""


class Unavailable(Exception):
    """The database or another service the command needs is unavailable: exit 3."""
