"""Fixtures of the remote-layer tests: an SSH executor reaching this machine through a real sshd on
127.0.0.1 (so it shares the local Docker engine), and cleanup of every container a test starts
(each test labels its containers ``zpanel.test=<uuid>``). The deployer's tests import these.

The session sshd fixture lives in tests/conftest.py (the e2e tests use it too).
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from tests.harness import sshd as sshh
from zpanel.models import Server
from zpanel.remote.retry import Backoff
from zpanel.remote.ssh import SshExecutor, SshPool, SshTarget

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


def docker_out(*argv: str) -> str:
    """The stdout of a docker CLI command, for setup and cleanup (never asserted on)."""
    return subprocess.run(["docker", *argv], capture_output=True, text=True).stdout


@pytest.fixture
def owned() -> Iterator[dict[str, str]]:
    """A label for the containers of one test; whatever carries it is removed afterwards."""
    label = {TEST_LABEL: uuid.uuid4().hex}
    yield label
    ids = docker_out("ps", "-aq", "--filter", f"label={TEST_LABEL}={label[TEST_LABEL]}").split()
    if ids:
        docker_out("rm", "-f", *ids)


def ssh_server(sshd: sshh.Sshd, name: str, port: int | None = None) -> Server:
    """The record of a server reached through the test sshd (``port``: another, e.g. a closed one)."""
    return Server(name=name, kind="ssh", host=sshd.host, port=port or sshd.port, known_hosts=sshd.host_key_line)
