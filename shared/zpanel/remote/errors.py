"""The errors of reaching a server and running a command there. Each message is meant for the
user: it names the server and says what to do. Transport errors (asyncssh, OSError, a failed
docker command) are converted here, at the boundary, with ``raise ... from exc``."""

from __future__ import annotations

from zpanel.errors import PermanentError, RetryableError, ZpanelError


class RemoteError(ZpanelError):
    """Base of everything the remote layer raises on purpose."""


class ServerUnreachableError(RemoteError, RetryableError):
    """Could not connect to a server after the bounded retries; the reason is in the message."""

    def __init__(self, server: str, reason: str, attempts: int) -> None:
        super().__init__(
            f"server {server!r} is unreachable after {attempts} attempt(s): {reason}; "
            "check that it is up and that `zpanel server check` passes"
        )
        self.server = server
        self.reason = reason
        self.attempts = attempts


class HostKeyMismatchError(RemoteError, PermanentError):
    """The server presented a host key other than the pinned one. Never accepted."""

    def __init__(self, server: str, address: str, expected: list[str], presented: str | None) -> None:
        shown = presented or "unknown (the server closed the connection)"
        super().__init__(
            f"host key of server {server!r} ({address}) does not match the pinned key: "
            f"expected {', '.join(expected) or 'none pinned'}, the server presented {shown}. "
            "The connection was refused. If the server was reinstalled, verify the new key out of band "
            "and register it again with `zpanel server add ... --known-hosts FILE`"
        )
        self.server = server
        self.expected = expected
        self.presented = presented


class AuthenticationError(RemoteError, PermanentError):
    """The server refused our key."""


class InvalidKnownHostsError(RemoteError, PermanentError):
    """The pinned known_hosts text holds no usable key."""


class CommandError(RemoteError):
    """A command on a server exited non-zero. ``stderr`` tail is kept for the user."""

    def __init__(self, server: str, argv: list[str], returncode: int | None, stderr: str) -> None:
        tail = stderr.strip().splitlines()[-5:]
        detail = "; ".join(tail) if tail else "no output"
        super().__init__(f"`{' '.join(argv[:3])} …` failed on server {server!r} (exit {returncode}): {detail}")
        self.server = server
        self.argv = argv
        self.returncode = returncode
        self.stderr = stderr
