"""The gateway's check of an SSH server goes through the deployer's executor: a real sshd on
127.0.0.1 (sharing this machine's Docker engine) answers with the engine's version; a closed port
says why SSH failed and leaves Docker unchecked."""

from __future__ import annotations

import subprocess

import pytest

from tests.gateway.apistack import Api, make_api
from tests.harness.nats import NatsServer, free_port
from tests.harness.sshd import Sshd
from zpanel_webhook_gateway.api.servercheck import SshServerChecker


async def _check(api: Api, sshd: Sshd, port: int) -> dict[str, object]:
    body = {
        "name": "far",
        "host": sshd.host,
        "port": port,
        "user": sshd.user,
        "private_key": sshd.client_key,
        "known_hosts": sshd.host_key_line,
    }
    r = await api.request("POST", "/api/v1/servers", json=body)
    assert r.status_code == 201, r.text
    return dict((await api.request("POST", "/api/v1/servers/far/check")).json())


@pytest.mark.docker
async def test_an_ssh_server_answers_with_its_docker_version(
    own_nats: NatsServer, sshd: Sshd, docker_engine: None
) -> None:
    checker = SshServerChecker()
    api, _ = await make_api(own_nats.url, checker=checker)
    try:
        answer = await _check(api, sshd, sshd.port)
        local = subprocess.run(["docker", "version", "--format", "{{.Server.Version}}"], capture_output=True, text=True)
        version = local.stdout.strip()
        assert answer == {
            "server": "far",
            "ssh": {"ok": True, "detail": f"ssh {sshd.user}@{sshd.host}:{sshd.port} answers"},
            "docker": {"ok": True, "detail": f"Docker engine {version} answers", "version": version},
        }
    finally:
        await checker.close()
        await api.client.aclose()
        await api.bus.close()


async def test_an_unreachable_ssh_server_says_why(own_nats: NatsServer, sshd: Sshd) -> None:
    checker = SshServerChecker()
    api, _ = await make_api(own_nats.url, checker=checker)
    try:
        closed = free_port()
        answer = await _check(api, sshd, closed)
        assert answer["docker"] == {"ok": None, "detail": "not checked: no SSH connection", "version": None}
        ssh = answer["ssh"]
        assert isinstance(ssh, dict) and ssh["ok"] is False
        assert f"connection refused by 127.0.0.1:{closed} (is sshd running on that port?)" in ssh["detail"]
    finally:
        await checker.close()
        await api.client.aclose()
        await api.bus.close()
