"""An unreachable server never slows a deployment to another."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from tests.deployer.conftest import Images
from tests.deployer.helpers import HttpHooks, app, get
from tests.harness.nats import free_port
from tests.harness.sshd import Sshd
from tests.remote.conftest import ssh_server
from zpanel.remote.errors import ServerUnreachableError
from zpanel.remote.retry import Backoff
from zpanel.remote.servers import Servers
from zpanel_deployer.deploy import Deployer
from zpanel_deployer.request import DeployRequest, Placement
from zpanel_deployer.walker import deploy


async def test_unreachable_server_fails_with_reason_while_another_deploys(
    sshd: Sshd, images: Images, owned: dict[str, str], tmp_path
) -> None:
    gate = asyncio.Event()
    waits: list[float] = []

    async def gated_sleep(seconds: float) -> None:
        waits.append(seconds)
        await gate.wait()  # the down server's backoff holds here until the test lets it go

    servers = Servers(Backoff(attempts=3, initial=0.5, factor=2, sleep=gated_sleep), connect_timeout=5)
    closed = free_port()
    down = Deployer(servers.executor(ssh_server(sshd, "down", closed), sshd.client_key), Placement(root=str(tmp_path)))
    up = Deployer(servers.executor(ssh_server(sshd, "up"), sshd.client_key), Placement(root=str(tmp_path)))

    def request() -> DeployRequest:
        uid = uuid.uuid4().hex
        return DeployRequest(app(id=uid, name=f"t{uid[:8]}"), uuid.uuid4().hex, images.v1, extra_labels=owned)

    stuck = asyncio.create_task(deploy(down, request(), HttpHooks()))
    while not waits:  # the down server is in its first backoff wait
        await asyncio.sleep(0.01)
    done = await deploy(up, request(), HttpHooks())
    assert get(done.containers[0].address) == "v1\n"
    assert not stuck.done()  # the other server's deployment did not wait for this one

    gate.set()
    with pytest.raises(ServerUnreachableError) as err:
        await stuck
    assert (err.value.attempts, err.value.reason) == (
        3, f"connection refused by 127.0.0.1:{closed} (is sshd running on that port?)",
    )  # fmt: skip
    assert waits == [0.5, 1.0]
    await servers.close()
