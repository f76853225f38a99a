"""All six stages in one test process on a real nats-server, with the real Docker engine and a
real proxy: the fastest whole-pipeline rig. (tests/e2e/test_stack.py runs them as processes.)"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from tests.harness.proxies import Caddy, Traefik
from tests.shared.conftest import fast_settings
from zpanel.bus import Bus
from zpanel.models import Application, Deployment, Server, Status
from zpanel.secrets import Cipher
from zpanel.settings import Settings
from zpanel.state import State
from zpanel_builder.buildkit import find_client
from zpanel_builder.executor import DockerBuilder
from zpanel_builder.worker import Builder
from zpanel_deployer.worker import HANDLED, DeployWorker
from zpanel_health.worker import HealthWorker, ssh_reach
from zpanel_notifier.channels import Channels
from zpanel_notifier.delivery import RetryPolicy
from zpanel_notifier.worker import Notifier
from zpanel_proxy_sync.worker import HANDLED as PROXY_HANDLED
from zpanel_proxy_sync.worker import ProxyWorker, backends
from zpanel_webhook_gateway.conductor import Conductor
from zpanel_webhook_gateway.intake import Intake
from zpanel_webhook_gateway.projection import Projection


@dataclass
class Platform:
    bus: Bus
    settings: Settings
    state: State
    conductor: Conductor
    cipher: Cipher

    async def wait(self, dep_id: str, timeout: float = 120) -> Deployment:
        for _ in range(int(timeout / 0.05)):
            dep = await self.state.deployments.find(dep_id)  # None: a webhook's, not admitted yet
            if dep is not None and dep.status.terminal:
                return dep
            await asyncio.sleep(0.05)
        raise AssertionError(f"deployment {dep_id} still {dep.status if dep else 'not admitted'} after {timeout}s")

    async def deploy(self, app: Application, commit: str | None = None) -> Deployment:
        dep = await self.conductor.request(app, "manual", commit=commit)
        return await self.wait(dep.id)


@contextlib.asynccontextmanager
async def platform(
    nats_url: str, home: Path, proxy: Traefik | Caddy, servers: tuple[str, ...] = ("local",)
) -> AsyncIterator[Platform]:
    kind = "caddy" if isinstance(proxy, Caddy) else "traefik"
    settings = fast_settings(
        nats_url,
        home=home,
        ack_wait_s=30.0,
        proxy_kind=kind,
        proxy_dir=getattr(proxy, "dynamic_dir", None),
        caddy_admin_url=getattr(proxy, "admin_url", "http://127.0.0.1:2019"),
        proxy_http_port=proxy.web_port if isinstance(proxy, Traefik) else proxy.http_port,
        proxy_https_port=proxy.websecure_port if isinstance(proxy, Traefik) else proxy.https_port,
    )
    bus = await Bus.connect(settings, name="e2e")
    await bus.provision()
    state = State(bus)
    await state.servers.put("local", Server(name="local", kind="local", proxy=kind))  # type: ignore[arg-type]
    cipher = Cipher.from_home(home)
    conductor = Conductor(bus, state)
    await Projection(bus, conductor).start()
    await Intake(bus, conductor).start()  # webhooks are admitted from the PUSH stream, as in the gateway
    client, _ = await find_client()
    builder = Builder(bus, settings, DockerBuilder(client, timeout=120), cipher)
    await bus.consume(
        stage="builder", subjects=["deployment.requested.*"], stream="PIPELINE", handler=builder.handle, concurrency=2
    )
    deployer = DeployWorker(bus, settings, cipher)
    per = [await bus.consume_per_server(stage="deployer", event_types=HANDLED, handler=deployer.handle, concurrency=4)]
    health = HealthWorker(bus, ssh_reach(cipher))
    per.append(
        await bus.consume_per_server(stage="health", event_types=["deploy.done"], handler=health.handle, concurrency=4)
    )
    proxy_worker = ProxyWorker(bus, settings, backends(settings, cipher))
    per.append(
        await bus.consume_per_server(
            stage="proxy",
            event_types=PROXY_HANDLED,
            handler=proxy_worker.handle,
            concurrency=4,
        )
    )
    for p in per:
        for server in servers:
            await p.add(server)
    async with Channels(timeout=2.0) as channels:
        notifier = Notifier(bus, settings, cipher, channels, RetryPolicy(attempts=2, first_delay=0.05, max_delay=0.1))
        await notifier.start()
        try:
            yield Platform(bus, settings, state, conductor, cipher)
        finally:
            await bus.close()


def remove_app_containers(app_id: str) -> None:
    ids = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=zpanel.app={app_id}"], capture_output=True, text=True
    ).stdout.split()
    if ids:
        subprocess.run(["docker", "rm", "-f", *ids], capture_output=True)


def app_named(prefix: str, repo: Path, **over: object) -> Application:
    name = f"{prefix}-{uuid.uuid4().hex[:6]}"
    fields: dict[str, object] = {"server": "local", "domains": [f"{name}.localhost"], **over}
    return Application(id=f"app-{name}", name=name, repo=str(repo), **fields)  # type: ignore[arg-type]


__all__ = ["Platform", "Status", "app_named", "platform", "remove_app_containers"]
