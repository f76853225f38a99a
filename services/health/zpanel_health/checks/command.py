"""Custom command check: ``docker exec CONTAINER CMD...`` succeeds (exit code 0). This one runs
inside the image, so it is only for commands the user knows the image has."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from zpanel_health.checks.base import ProbeResult
from zpanel_health.runner import Runner


def exec_argv(container: str, command: Sequence[str], docker: str = "docker") -> list[str]:
    return [docker, "exec", container, *command]


def judge_exit(command: Sequence[str], returncode: int, stdout: str, stderr: str) -> ProbeResult:
    shown = " ".join(command)
    if returncode == 0:
        return ProbeResult(True, f"`{shown}` exited 0")
    said = stdout + stderr  # the docker client prints exec failures on either, by version
    missing = "executable file not found" in said or (
        returncode in (126, 127) and "no such file or directory" in said.lower()
    )
    if missing:
        return ProbeResult(
            False,
            f"`{shown}` is not in the image: use an HTTP or TCP check (they run from outside the image)",
            True,
        )
    last = (stderr.strip() or stdout.strip()).splitlines()[-1:] or [""]
    tail = f": {last[0][:200]}" if last[0] else ""
    return ProbeResult(False, f"`{shown}` exited {returncode}{tail}")


@dataclass(frozen=True)
class CommandCheck:
    container: str
    command: tuple[str, ...]
    runner: Runner
    docker: str = "docker"
    timeout: float = 10.0

    async def __call__(self) -> ProbeResult:
        done = await self.runner(exec_argv(self.container, self.command, self.docker), timeout=self.timeout)
        return judge_exit(self.command, done.returncode, done.stdout, done.stderr)
