"""The executor interface: run an argv list on one server and get its exit code and output.

Kept deliberately thin so the decisions (what to run, in which order) live in pure code.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

from zpanel.remote.errors import CommandError

Input = bytes | AsyncIterator[bytes] | None
CHUNK = 256 * 1024


@dataclass(frozen=True)
class Result:
    argv: list[str]
    returncode: int | None
    stdout: bytes
    stderr: bytes

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def out(self) -> str:
        return self.stdout.decode("utf-8", "replace")

    @property
    def err(self) -> str:
        return self.stderr.decode("utf-8", "replace")


class Executor(Protocol):
    server: str

    async def run(
        self, argv: Sequence[str], *, input: Input = None, check: bool = True, timeout: float | None = None
    ) -> Result:
        """Run to completion. ``check``: raise :class:`CommandError` on a non-zero exit."""
        ...

    def stream(self, argv: Sequence[str]) -> AbstractAsyncContextManager[AsyncIterator[bytes]]:
        """Run and hand out stdout in chunks; a non-zero exit raises when the stream ends."""
        ...

    async def write_file(self, path: str, data: bytes, mode: int = 0o600) -> None: ...

    async def close(self) -> None: ...


class Readable(Protocol):
    async def read(self, n: int = -1, /) -> bytes: ...


class Writable(Protocol):
    def write(self, data: bytes) -> None: ...

    async def drain(self) -> None: ...


async def write_all(stdin: Writable, data: Input) -> None:
    """``data`` into a process's stdin: all of it, or each chunk as it comes (the caller closes)."""
    if isinstance(data, bytes):
        stdin.write(data)
        await stdin.drain()
    elif data is not None:
        async for chunk in data:
            stdin.write(chunk)
            await stdin.drain()


async def chunks(stream: Readable) -> AsyncIterator[bytes]:
    """A process's output, as it comes, until its end."""
    while chunk := await stream.read(CHUNK):
        yield chunk


def checked(server: str, result: Result, check: bool) -> Result:
    if check and not result.ok:
        raise CommandError(server, result.argv, result.returncode, result.err)
    return result


def write_file_argv(path: str, mode: int) -> list[str]:
    """Write stdin to ``path`` (parents created) with ``mode``; umask 077 so the file is never
    readable by others, not even for an instant before the chmod. The same on every server, so
    the SSH path needs no SFTP subsystem. The temporary name carries the shell's pid, so two
    writers of one file (a redelivered deployment racing its first delivery) never share it."""
    script = (
        'umask 077 && mkdir -p -- "$(dirname -- "$1")" && t="$1.tmp.$$" && cat > "$t" && chmod "$2" "$t" '
        '&& mv -f -- "$t" "$1"'
    )
    return ["sh", "-c", script, "sh", path, format(mode, "o")]
