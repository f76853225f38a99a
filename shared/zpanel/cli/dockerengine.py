"""Making sure a Docker engine answers before ``zpanel up`` starts services that need one. As root
on Debian it installs ``docker.io`` and starts ``dockerd``, saying so; elsewhere it says, in one
line, how to get one."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from zpanel.cli.errors import CliError

HOW = (
    "no Docker engine answers (DOCKER_HOST or /var/run/docker.sock): install one "
    "(Debian: `apt-get install docker.io && dockerd &`) and run `zpanel up` again"
)


def answers(timeout: float = 10) -> bool:
    client = shutil.which("docker")
    if client is None:
        return False
    try:
        r = subprocess.run([client, "info", "--format", "{{.ServerVersion}}"], capture_output=True, timeout=timeout)
    except (OSError, subprocess.SubprocessError):
        return False
    return r.returncode == 0


def may_install() -> bool:
    return os.geteuid() == 0 and Path("/etc/debian_version").exists() and shutil.which("apt-get") is not None


def _apt_install(say: Callable[[str], None]) -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    say("installing Debian's docker.io: apt-get install -y docker.io")
    r = subprocess.run(["apt-get", "install", "-y", "-q", "docker.io"], env=env, capture_output=True, text=True)
    if r.returncode != 0:
        say("apt-get update (the package list is stale or missing)")
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True)
        r = subprocess.run(["apt-get", "install", "-y", "-q", "docker.io"], env=env, capture_output=True, text=True)
    if r.returncode != 0:
        last = (r.stderr.strip().splitlines() or ["no output"])[-1]
        raise CliError(f"apt-get install docker.io failed ({last}); {HOW}")


def ensure(say: Callable[[str], None], logs: Path, wait_s: float = 30) -> None:
    if answers():
        return
    if not may_install():
        raise CliError(HOW)
    say("no Docker engine answers; as root on Debian, Zpanel sets one up itself")
    if shutil.which("dockerd") is None:
        _apt_install(say)
    logs.mkdir(parents=True, exist_ok=True)
    say(f"starting dockerd (log: {logs / 'dockerd.log'}); it keeps running after `zpanel down`")
    with open(logs / "dockerd.log", "ab") as out:
        subprocess.Popen(
            ["dockerd"], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True
        )
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if answers(timeout=3):
            say("Docker engine is up")
            return
        time.sleep(0.5)
    raise CliError(f"dockerd did not answer within {wait_s:.0f}s; see {logs / 'dockerd.log'}")
