"""Runs argv lists on this machine with asyncio subprocesses (the ``local`` server)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Sequence
from typing import Any, Literal

from zpanel.remote.base import Input, Result, checked, chunks, write_all
from zpanel.remote.engine import Engine, socket_path
from zpanel.remote.errors import CommandError


async def _feed(stdin: asyncio.StreamWriter, data: Input) -> None:
    try:
        await write_all(stdin, data)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the process exited early; its exit code tells why
    finally:
        stdin.close()


def _make_parents(folder: str) -> None:
    """``mkdir -p`` under umask 077, as on a remote server: every folder created is 0700."""
    if not folder or os.path.isdir(folder):
        return
    _make_parents(os.path.dirname(folder))
    with contextlib.suppress(FileExistsError):
        os.mkdir(folder, 0o700)


def _write_atomically(path: str, data: bytes, mode: int) -> None:
    """Created 0600 under a name of its own (never readable by others, even for an instant),
    then given ``mode`` and renamed over ``path``."""
    _make_parents(os.path.dirname(path))
    tmp = f"{path}.tmp.{os.getpid()}.{uuid.uuid4().hex[:8]}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


class LocalExecutor:
    """``engine``: where the commands that carry an Engine API form go instead of a CLI process;
    by default the socket the docker CLI itself would use, when it is a local one."""

    def __init__(self, server: str = "local", engine: Engine | Literal["auto"] | None = "auto") -> None:
        self.server = server
        if engine == "auto":
            socket = socket_path(os.environ)
            engine = Engine(socket) if socket else None
        self.engine = engine

    def __repr__(self) -> str:
        return f"LocalExecutor({self.server!r})"

    async def run(
        self, argv: Sequence[str], *, input: Input = None, check: bool = True, timeout: float | None = None
    ) -> Result:
        op = getattr(argv, "engine", None)
        argv = list(argv)
        if self.engine is not None and op is not None and input is None:
            async with asyncio.timeout(timeout):
                answered = await self.engine.perform(op, argv)
            if answered is not None:
                return checked(self.server, answered, check)
        try:
            proc = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.PIPE if input is not None else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
        except OSError as exc:
            raise CommandError(self.server, argv, None, f"cannot start {argv[0]}: {exc}") from exc
        assert proc.stdout is not None and proc.stderr is not None
        try:
            async with asyncio.timeout(timeout):
                jobs: list[Awaitable[Any]] = [proc.stdout.read(), proc.stderr.read()]
                if input is not None:
                    assert proc.stdin is not None
                    jobs.append(_feed(proc.stdin, input))
                out, err, *_ = await asyncio.gather(*jobs)
                rc = await proc.wait()
        except BaseException:
            # timeout or cancellation: never leave the process behind
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            raise
        return checked(self.server, Result(argv, rc, out, err), check)

    @contextlib.asynccontextmanager
    async def stream(self, argv: Sequence[str]) -> AsyncIterator[AsyncIterator[bytes]]:
        argv = list(argv)
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        assert proc.stdout is not None and proc.stderr is not None
        err_task = asyncio.ensure_future(proc.stderr.read())
        stdout = proc.stdout

        try:
            yield chunks(stdout)
        except BaseException:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            err_task.cancel()
            raise
        if not stdout.at_eof():
            # the reader stopped early (its own error is what matters): do not block on a full pipe
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
        rc = await proc.wait()
        err = await err_task
        checked(self.server, Result(argv, rc, b"", err), True)

    async def write_file(self, path: str, data: bytes, mode: int = 0o600) -> None:
        """What ``write_file_argv`` does on a remote server, without a shell spawn."""
        try:
            await asyncio.to_thread(_write_atomically, path, data, mode)
        except OSError as exc:
            raise CommandError(self.server, ["write", path], None, f"cannot write {path}: {exc.strerror}") from exc

    async def close(self) -> None:
        if self.engine is not None:
            await self.engine.close()
