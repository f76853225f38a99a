"""The container's last log lines, for health.failed (they reach the deployment log and the
notification). Stdout and stderr arrive apart; timestamps put them back in order."""

from __future__ import annotations

from zpanel_health.runner import Runner

TAIL = 30


def logs_argv(container: str, lines: int = TAIL, docker: str = "docker") -> list[str]:
    return [docker, "logs", "--timestamps", "--tail", str(lines), container]


def _stamp(line: str) -> tuple[str, str]:
    # Docker trims trailing zeros of the nanoseconds, so pad the fraction before comparing.
    stamp = line.partition(" ")[0].rstrip("Z")
    whole, _, fraction = stamp.partition(".")
    return whole, fraction.ljust(9, "0")


def merge_streams(stdout: str, stderr: str, lines: int = TAIL) -> list[str]:
    """Interleave two ``--timestamps`` outputs by time and drop the timestamps."""
    stamped = [line for line in stdout.splitlines() + stderr.splitlines() if line]
    stamped.sort(key=_stamp)  # stable: on a tie stdout stays first
    return [line.partition(" ")[2] for line in stamped][-lines:]


async def log_tail(runner: Runner, container: str, lines: int = TAIL, docker: str = "docker") -> list[str]:
    """The last ``lines`` lines; an empty list when Docker cannot give them (never raises: this is
    decoration on a failure that is already being reported)."""
    try:
        done = await runner(logs_argv(container, lines, docker), timeout=10.0)
    except Exception:
        return []
    if done.returncode != 0:
        return []
    return merge_streams(done.stdout, done.stderr, lines)
