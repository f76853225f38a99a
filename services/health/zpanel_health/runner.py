"""How the checks run ``docker`` commands: an injected runner, so the same checks work on the
local engine (a subprocess) and on a remote server (the deployer's SSH runner)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from zpanel_health.errors import HealthError, RunnerTimeout


@dataclass(frozen=True)
class Completed:
    returncode: int
    stdout: str
    stderr: str


class Runner(Protocol):
    async def __call__(self, argv: Sequence[str], *, timeout: float) -> Completed: ...


async def local_runner(argv: Sequence[str], *, timeout: float) -> Completed:
    """Run ``argv`` on this machine; kill it if it outlives ``timeout``."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
    except OSError as exc:
        raise HealthError(f"cannot run {argv[0]!r}: {exc}; is it installed and on PATH?") from exc
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    except (TimeoutError, asyncio.CancelledError) as exc:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        if isinstance(exc, asyncio.CancelledError):
            raise
        raise RunnerTimeout(f"{argv[0]} {argv[1] if len(argv) > 1 else ''} took longer than {timeout:g}s") from exc
    return Completed(proc.returncode or 0, out.decode(errors="replace"), err.decode(errors="replace"))
