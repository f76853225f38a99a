"""The CLI's errors. Each message is one line that tells the user what to do; ``main`` prints it
to stderr and exits with ``code``."""

from __future__ import annotations


class CliError(Exception):
    code = 1


class UsageProblem(CliError):
    """Bad input the API or the CLI itself refused (exit 2, like click's usage errors)."""

    code = 2


class ApiError(CliError):
    def __init__(self, message: str, status: int | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.api_code = code
