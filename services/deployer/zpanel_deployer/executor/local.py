"""Runs argv lists on this machine with asyncio subprocesses (the ``local`` server)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Sequence
from typing import Any

from zpanel_deployer.errors import CommandError
from zpanel_deployer.executor.base import CHUNK, Input, Result, checked, write_file_argv


async def _feed(stdin: asyncio.StreamWriter, data: Input) -> None:
    try:
        if isinstance(data, bytes):
            stdin.write(data)
            await stdin.drain()
        elif data is not None:
            async for chunk in data:
                stdin.write(chunk)
                await stdin.drain()
    except (BrokenPipeError, ConnectionResetError):
        pass  # the process exited early; its exit code tells why
    finally:
        stdin.close()


class LocalExecutor:
    def __init__(self, server: str = "local") -> None:
        self.server = server

    def __repr__(self) -> str:
        return f"LocalExecutor({self.server!r})"

    async def run(
        self, argv: Sequence[str], *, input: Input = None, check: bool = True, timeout: float | None = None
    ) -> Result:
        argv = list(argv)
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

        async def chunks() -> AsyncIterator[bytes]:
            while chunk := await stdout.read(CHUNK):
                yield chunk

        try:
            yield chunks()
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
        await self.run(write_file_argv(path, mode), input=data)

    async def close(self) -> None:
        return None
