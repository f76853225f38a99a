"""Run one external command (git, docker) as an argv list, stream its merged output line by line,
enforce a timeout and kill the whole process group when cancelled."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from zpanel_builder.redact import Redactor

LineCallback = Callable[[str], None]
TAIL_LINES = 40


@dataclass
class ProcessResult:
    returncode: int
    tail: list[str] = field(default_factory=list)
    """The last lines of merged output, already redacted."""
    timed_out: bool = False


def _kill_group(proc: asyncio.subprocess.Process) -> None:
    # The command runs in a session of its own: killing the group also stops children such as
    # git's ssh or docker's credential helpers.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


async def run(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    on_line: LineCallback | None = None,
    timeout: float | None = None,
    redact: Redactor | None = None,
    stdin: bytes | None = None,
) -> ProcessResult:
    """Run ``argv``; every output line (stdout and stderr merged) goes through ``redact`` and then
    to ``on_line`` as it arrives. On timeout the process group is killed and ``timed_out`` set;
    on cancellation it is killed and ``CancelledError`` propagates."""
    redact = redact or Redactor()
    proc = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        env=dict(env) if env is not None else None,
        cwd=cwd,
        start_new_session=True,
    )
    tail: deque[str] = deque(maxlen=TAIL_LINES)

    async def pump() -> None:
        if stdin is not None and proc.stdin is not None:
            proc.stdin.write(stdin)
            await proc.stdin.drain()
            proc.stdin.close()
        assert proc.stdout is not None
        # Read raw chunks: a build step may print a line longer than asyncio's line limit.
        pending = b""
        while chunk := await proc.stdout.read(65536):
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for raw in lines:
                emit(raw)
        if pending:
            emit(pending)
        await proc.wait()

    def emit(raw: bytes) -> None:
        line = redact(raw.decode("utf-8", "replace").rstrip("\r"))
        tail.append(line)
        if on_line is not None:
            on_line(line)

    try:
        await asyncio.wait_for(pump(), timeout)
    except TimeoutError:
        _kill_group(proc)
        await proc.wait()
        return ProcessResult(returncode=proc.returncode or -9, tail=list(tail), timed_out=True)
    except BaseException:
        _kill_group(proc)
        with contextlib.suppress(Exception):
            await asyncio.shield(proc.wait())
        raise
    return ProcessResult(returncode=proc.returncode or 0, tail=list(tail))
