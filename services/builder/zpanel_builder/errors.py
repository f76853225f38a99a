"""The builder's errors. Each message tells the user what went wrong and what to do about it.

Errors that can never pass on retry (a bad ref, an unknown commit, a broken Dockerfile) are
:class:`PermanentError`; those that may (a git host that does not answer) are :class:`RetryableError`.
"""

from __future__ import annotations

from zpanel.errors import PermanentError, RetryableError, ZpanelError


class BuilderError(ZpanelError):
    """Base of every error the builder raises on purpose."""


class InvalidSource(BuilderError, PermanentError):
    """A repository URL, branch or ref was refused before anything ran."""


class UnknownCommit(BuilderError, PermanentError):
    """The requested commit is not in the repository."""


class SourceError(BuilderError, RetryableError):
    """git failed for a reason that may pass (network, authentication, host down)."""


class DetectError(BuilderError, PermanentError):
    """Auto-detection found nothing it knows how to build."""


class BuildkitUnavailable(BuilderError, PermanentError):
    """No docker client on this machine can build with BuildKit."""


class BuildFailed(BuilderError, PermanentError):
    """``docker build`` exited non-zero. ``failing_line`` is the line that says why; ``tail`` the
    last lines of output (secrets already redacted)."""

    def __init__(self, reason: str, failing_line: str = "", tail: list[str] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.failing_line = failing_line
        self.tail = list(tail or [])


class BuildTimeout(BuildFailed):
    """The build ran past its timeout and was killed."""
