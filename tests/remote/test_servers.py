"""Server records to executors: one per server, replaced when the record changes; `server check`."""

from __future__ import annotations

import subprocess

import pytest

from tests.harness.sshd import Sshd
from tests.remote.conftest import ssh_server
from zpanel.models import Server
from zpanel.remote.local import LocalExecutor
from zpanel.remote.servers import Servers
from zpanel.remote.ssh import SshExecutor


async def test_executors_by_kind_and_identity(sshd: Sshd) -> None:
    servers = Servers()
    local = servers.executor(Server(name="local", kind="local"))
    assert isinstance(local, LocalExecutor)
    remote = servers.executor(ssh_server(sshd, "r1"), sshd.client_key)
    assert isinstance(remote, SshExecutor)
    assert servers.executor(ssh_server(sshd, "r1"), sshd.client_key) is remote
    assert servers.executor(ssh_server(sshd, "r1", port=2), sshd.client_key) is not remote
    with pytest.raises(ValueError, match="server 'r2' is reached over SSH and needs its private key"):
        servers.executor(ssh_server(sshd, "r2"))
    assert servers.limit(Server(name="x", max_concurrency=3))._value == 3
    await servers.close()


async def test_check_reports_the_docker_version_over_ssh(sshd: Sshd, docker_engine: None) -> None:
    servers = Servers()
    check = await servers.check(ssh_server(sshd, "r1"), sshd.client_key)
    local = subprocess.run(["docker", "version", "--format", "{{.Server.Version}}"], capture_output=True, text=True)
    assert (check.server, check.docker_version) == ("r1", local.stdout.strip())
    await servers.close()
