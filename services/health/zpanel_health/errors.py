"""The health checker's errors. Probe failures are not errors (they are results); these are the
things that stop the checker itself from doing its job."""

from zpanel.errors import PermanentError, RetryableError


class HealthError(RetryableError):
    """The checker could not run a probe at all (Docker or the server did not answer)."""


class RunnerTimeout(HealthError):
    """A command run for a probe did not finish within its timeout; it was killed."""


class BadHealthSettings(PermanentError):
    """The application's health settings cannot work (e.g. a command check without a command)."""
