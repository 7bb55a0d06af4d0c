"""The hub's failure kinds (docs/cli.md exit codes), below everything that raises or classifies them."""


class UsageError(Exception):
    """Bad usage, configuration or input: exit 2."""


class Unavailable(Exception):
    """The database or another service the command needs is unavailable: exit 3."""


class ServiceError(ValueError):
    """Bad input to an operation of registry.services (exit 2 on the CLI, a form error on the dashboard)."""
