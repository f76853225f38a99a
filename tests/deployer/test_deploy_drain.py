"""Retiring the old version waits for its requests in flight, not for a fixed time: real
containers behind a real Traefik, deployed over SSH and locally. The old version serves a request
that only ends when the test releases it; the old container keeps running through the switch and
is stopped (``stop_timeout=0``: at once, SIGKILL) only after that request ended with 200. An idle
old version is retired with no wait beyond the settle."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.deployer.helpers import HttpHooks, app
from tests.harness import proxies
from zpanel.models import Application, ContainerRef
from zpanel.remote.base import Executor, Result
from zpanel.remote.local import LocalExecutor
from zpanel_deployer.deploy import DRAIN_SETTLE_S, UNREADABLE_DRAIN_S, Deployer
from zpanel_deployer.drain import Drained
from zpanel_deployer.request import DeployRequest, Placement
from zpanel_deployer.walker import deploy
from zpanel_proxy_sync.routes import AppRoute, TlsOptions
from zpanel_proxy_sync.switch import switch
from zpanel_proxy_sync.verify import httpx_fetch, verify

HOST = "drain.test"
HELD_AFTER_SWITCH_S = 2.5
"""Longer than the fixed 2 s the deployer used to wait before stopping the old version."""
# /cgi-bin/hold answers only once /tmp/release exists in the container: a request in flight for
# exactly as long as the test wants
HOLD = """#!/bin/sh
while [ ! -e /tmp/release ]; do sleep 0.05; done
printf 'Content-Type: text/plain\\r\\n\\r\\nheld %s' "$(cat /www/index.html)"
"""


@pytest.fixture(scope="module")
def hold_images(busybox_image: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    repo = f"zpanel-test/drain-{uuid.uuid4().hex[:10]}"
    tags = {}
    for version in ("v1", "v2"):
        ctx = tmp_path_factory.mktemp(version)
        (ctx / "www" / "cgi-bin").mkdir(parents=True)
        (ctx / "www" / "index.html").write_text(f"{version}\n")
        (ctx / "www" / "cgi-bin" / "hold").write_text(HOLD)
        (ctx / "www" / "cgi-bin" / "hold").chmod(0o755)
        (ctx / "Dockerfile").write_text(f"FROM {busybox_image}\nCOPY www /www\n")
        tags[version] = f"{repo}:{version}"
        subprocess.run(
            ["docker", "build", "-q", "-t", tags[version], str(ctx)],
            check=True,
            capture_output=True,
            env={**os.environ, "DOCKER_BUILDKIT": "0"},
        )
    yield tags
    subprocess.run(["docker", "image", "rm", "-f", *tags.values()], capture_output=True)


class ProxyHooks(HttpHooks):
    """Health as in the other deployer tests; the switch through a real Traefik, verified."""

    def __init__(self, proxy: proxies.Traefik, app_name: str) -> None:
        super().__init__()
        self.proxy, self.app_name = proxy, app_name
        self.switched = asyncio.Event()

    async def switch(self, containers: list[ContainerRef]) -> None:
        deployment = containers[0].name
        route = AppRoute(
            self.app_name, (HOST,), tuple(c.address for c in containers), deployment, TlsOptions(enabled=False)
        )
        fetch = httpx_fetch(self.proxy.url)
        await switch(self.proxy.backend(), route, lambda r: verify(fetch, r.domains, r.deployment_id, within=10))
        await super().switch(containers)
        self.switched.set()


@pytest.fixture(params=["ssh", "local"])
def executor(request: pytest.FixtureRequest, docker_engine: None) -> Executor:
    if request.param == "ssh":
        return request.getfixturevalue("remote")  # type: ignore[no-any-return]
    return LocalExecutor()


@pytest.fixture
def traefik_proxy(tmp_path: Path) -> Iterator[proxies.Traefik]:
    with proxies.traefik(tmp_path / "traefik", tls=False) as proxy:
        yield proxy


@pytest.fixture
def the_app() -> Application:
    uid = uuid.uuid4().hex
    return app(id=uid, name=f"d{uid[:8]}", port=8080, domains=[HOST])


MakeReq = Callable[..., DeployRequest]


@pytest.fixture
def make(owned: dict[str, str]) -> MakeReq:
    def make_req(app: Application, image: str) -> DeployRequest:
        return DeployRequest(app=app, image=image, deployment_id=uuid.uuid4().hex, extra_labels=owned)

    return make_req


def state(name: str) -> str:
    out = subprocess.run(["docker", "inspect", "--format", "{{.State.Status}}", name], capture_output=True, text=True)
    return out.stdout.strip() or "gone"


async def test_the_old_version_is_stopped_only_after_its_request_in_flight_ended(
    executor: Executor,
    traefik_proxy: proxies.Traefik,
    hold_images: dict[str, str],
    the_app: Application,
    make: MakeReq,
    apps_root: str,
) -> None:
    lines: list[str] = []
    deployer = Deployer(executor, Placement(root=apps_root, stop_timeout=0), log=lines.append)
    first = await deploy(deployer, make(the_app, hold_images["v1"]), ProxyHooks(traefik_proxy, the_app.name))
    (old,) = first.containers

    async with httpx.AsyncClient(timeout=60) as client:
        held = asyncio.create_task(client.get(f"{traefik_proxy.url}/cgi-bin/hold", headers={"Host": HOST}))
        while (await deployer.drain([old.name], timeout=0)).remaining == 0:  # until it reached v1
            assert not held.done(), held.result()
        hooks = ProxyHooks(traefik_proxy, the_app.name)
        second = asyncio.create_task(deploy(deployer, make(the_app, hold_images["v2"]), hooks))
        await hooks.switched.wait()
        await asyncio.sleep(HELD_AFTER_SWITCH_S)
        # routed away from v1, and still running: its request is not done
        assert (state(old.name), held.done(), second.done()) == ("running", False, False)
        subprocess.run(["docker", "exec", old.name, "touch", "/tmp/release"], check=True, timeout=30)
        (new,) = (await second).containers
        answer = await held
    assert (answer.status_code, answer.text, answer.headers["X-Zpanel-Deployment"]) == (200, "held v1", old.name)
    assert state(old.name) == "gone"
    retired = lines[lines.index(f"stopping {old.name}") - 1 :]
    assert retired[0].startswith(f"{old.name} drained in ")
    assert retired[1:] == [f"stopping {old.name}", f"removing {old.name}"]
    async with httpx.AsyncClient() as client:
        after = await client.get(traefik_proxy.url, headers={"Host": HOST})
    assert (after.text, after.headers["X-Zpanel-Deployment"]) == ("v2\n", new.name)


async def test_an_idle_old_version_is_retired_without_waiting(
    executor: Executor,
    traefik_proxy: proxies.Traefik,
    hold_images: dict[str, str],
    the_app: Application,
    make: MakeReq,
    apps_root: str,
) -> None:
    deployer = Deployer(executor, Placement(root=apps_root, stop_timeout=0))
    (old,) = (
        await deploy(deployer, make(the_app, hold_images["v1"]), ProxyHooks(traefik_proxy, the_app.name))
    ).containers
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        await asyncio.sleep(seconds)

    await deploy(deployer, make(the_app, hold_images["v2"]), ProxyHooks(traefik_proxy, the_app.name), sleep=sleep)
    assert slept == [DRAIN_SETTLE_S]  # one look after the settle found no connection
    assert state(old.name) == "gone"


async def test_the_drain_timeout_bounds_the_wait(
    hold_images: dict[str, str], the_app: Application, make: MakeReq, apps_root: str
) -> None:
    lines: list[str] = []
    deployer = Deployer(LocalExecutor(), Placement(root=apps_root, stop_timeout=0), log=lines.append)
    req = make(the_app.model_copy(update={"domains": []}), hold_images["v1"])
    (ref,) = (await deploy(deployer, req, HttpHooks())).containers
    host, port = ref.address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5):  # connected, never asks anything
        drained = await deployer.drain([ref.name], timeout=0.3)
    assert drained.remaining == 1
    assert lines[-1] == f"{ref.name}: 1 connection(s) still open after 0.3s; stopping anyway"


async def test_nothing_to_drain_when_the_old_containers_are_gone(apps_root: str, docker_engine: None) -> None:
    deployer = Deployer(LocalExecutor(), Placement(root=apps_root))
    assert await deployer.drain([f"zp-never-{uuid.uuid4().hex[:8]}"], timeout=5) == Drained(0.0, 0)


class UnreadableProc:
    """A server whose /proc hides other users' connections."""

    server = "hardened"

    async def run(self, argv: Any, *, input: Any = None, check: bool = True, timeout: Any = None) -> Result:
        out = b"4242\n" if argv[1] == "inspect" else b"!! 4242\n"
        return Result(list(argv), 0, out, b"")


async def test_unreadable_connections_fall_back_to_a_fixed_grace() -> None:
    lines: list[str] = []
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    deployer = Deployer(UnreadableProc(), log=lines.append)  # type: ignore[arg-type]
    assert await deployer.drain(["web-1"], timeout=30, sleep=sleep) == Drained(UNREADABLE_DRAIN_S, 0)
    assert slept == [DRAIN_SETTLE_S, UNREADABLE_DRAIN_S]
    assert lines == [
        f"cannot read the connections of process 4242: giving web-1 {UNREADABLE_DRAIN_S:g}s to finish their requests"
    ]
