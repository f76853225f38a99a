"""Fixtures of the deployer tests: a real sshd on 127.0.0.1 (the "remote" server is this machine
reached over SSH, so it shares the local Docker engine), test images, and cleanup of every
container a test starts (each test labels its containers ``zpanel.test=<uuid>``).

The session sshd fixture lives in tests/conftest.py (the e2e tests use it too).
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.harness import sshd as sshh
from zpanel_deployer.executor import Backoff, SshExecutor, SshPool, SshTarget

TEST_LABEL = "zpanel.test"


@pytest.fixture
def ssh_target(sshd: sshh.Sshd) -> SshTarget:
    return SshTarget(
        server="remote",
        host=sshd.host,
        port=sshd.port,
        user=sshd.user,
        private_key=sshd.client_key,
        known_hosts=sshd.host_key_line,
        connect_timeout=5,
    )


@pytest.fixture
async def ssh_pool() -> AsyncIterator[SshPool]:
    pool = SshPool(Backoff(attempts=3, initial=0.05, max_delay=0.2))
    yield pool
    await pool.close()


@pytest.fixture
def remote(ssh_target: SshTarget, ssh_pool: SshPool, docker_engine: None) -> SshExecutor:
    return SshExecutor(ssh_target, ssh_pool)


def _docker(*argv: str) -> str:
    return subprocess.run(["docker", *argv], capture_output=True, text=True).stdout


@pytest.fixture
def owned() -> Iterator[dict[str, str]]:
    """A label for the containers of one test; whatever carries it is removed afterwards."""
    label = {TEST_LABEL: uuid.uuid4().hex}
    yield label
    ids = _docker("ps", "-aq", "--filter", f"label={TEST_LABEL}={label[TEST_LABEL]}").split()
    if ids:
        _docker("rm", "-f", *ids)


@dataclass(frozen=True)
class Images:
    repo: str
    v1: str  # serves "v1\n" on :8080
    v2: str  # serves "v2\n"
    broken: str  # exits at once


@pytest.fixture(scope="session")
def images(busybox_image: str) -> Iterator[Images]:
    repo = f"zpanel-test/deployer-{uuid.uuid4().hex[:10]}"
    bodies = {
        "v1": "RUN echo v1 > /www/index.html",
        "v2": "RUN echo v2 > /www/index.html",
        "broken": 'CMD ["sh", "-c", "echo starting; echo the app crashed >&2; exit 3"]',
    }
    for tag, line in bodies.items():
        subprocess.run(
            ["docker", "build", "-q", "-t", f"{repo}:{tag}", "-"],
            input=f"FROM {busybox_image}\n{line}\n",
            text=True,
            check=True,
            capture_output=True,
            env={**os.environ, "DOCKER_BUILDKIT": "0"},
        )
    yield Images(repo, f"{repo}:v1", f"{repo}:v2", f"{repo}:broken")
    refs = _docker("image", "ls", "--format", "{{.Repository}}:{{.Tag}}", repo).split()
    if refs:
        _docker("image", "rm", "-f", *refs)


@pytest.fixture
def apps_root(tmp_path: Path) -> str:
    return str(tmp_path / "apps")
