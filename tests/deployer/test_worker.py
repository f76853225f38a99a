"""The deployer stage on real NATS and the real Docker engine (server `local`)."""

from __future__ import annotations

import asyncio
import subprocess
import urllib.request
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from nats.js.api import DeliverPolicy

from tests.harness.nats import NatsServer
from tests.shared.conftest import fast_settings
from zpanel import logstream
from zpanel.bus import Bus
from zpanel.events import (
    BuildDone,
    DeployDone,
    DeployFailed,
    DeploymentRolledBack,
    DeploymentSucceeded,
    Event,
    HealthFailed,
    ProxyUpdated,
    parse,
)
from zpanel.models import Application, Deployment, Server
from zpanel.secrets import Cipher
from zpanel.state import State
from zpanel_deployer.worker import DeployWorker


def get(address: str) -> str:
    with urllib.request.urlopen(f"http://{address}/", timeout=5) as r:
        return r.read().decode()


@pytest.fixture
async def rig(own_nats: NatsServer, tmp_path: Path, busybox_image: str) -> AsyncIterator[Any]:
    settings = fast_settings(own_nats.url, home=tmp_path / "home")
    bus = await Bus.connect(settings, name="deployer-test")
    await bus.provision()
    state = State(bus)
    await state.servers.put("local", Server(name="local", kind="local"))
    worker = DeployWorker(bus, settings, Cipher.from_home(settings.home))
    per = await bus.consume_per_server(
        stage="deployer",
        event_types=["build.done", "health.failed", "proxy.updated", "proxy.failed"],
        handler=worker.handle,
    )
    await per.add("local")
    out: asyncio.Queue[Event] = asyncio.Queue()

    async def on(msg: Any) -> None:
        await out.put(parse(msg.data))

    for s in ("deploy.done.*", "deploy.failed.*", "deployment.succeeded.*", "deployment.rolled_back.*"):
        await bus.js.subscribe(s, cb=on, ordered_consumer=True, deliver_policy=DeliverPolicy.NEW)
    app_name = f"dw-{uuid.uuid4().hex[:8]}"
    app = Application(id=f"app-{app_name}", name=app_name, repo="https://x/y.git", server="local", pre_deploy=None)
    yield bus, state, out, app
    await bus.close()
    ids = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=zpanel.app={app.id}"], capture_output=True, text=True
    ).stdout.split()
    if ids:
        subprocess.run(["docker", "rm", "-f", *ids], capture_output=True)


async def new_deployment(state: State, app: Application, image: str) -> Deployment:
    dep = Deployment(id=uuid.uuid4().hex, app_id=app.id, app_name=app.name, server_id="local", spec=app, image=image)
    await state.create_deployment(dep)
    return dep


async def test_start_switch_retire_then_a_failed_health_rolls_back(rig: Any, busybox_image: str) -> None:
    bus, state, out, app = rig
    first = await new_deployment(state, app, busybox_image)
    ids = {"app_id": app.id, "server_id": "local"}
    await bus.publish(BuildDone(deployment_id=first.id, **ids, image=busybox_image))
    done = await asyncio.wait_for(out.get(), 60)
    assert isinstance(done, DeployDone), done
    [c1] = done.containers
    assert get(c1.address) == "zpanel test image\n"
    labels = subprocess.run(
        ["docker", "inspect", "--format", '{{index .Config.Labels "zpanel.deployment"}}', c1.id],
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert labels == first.id
    # the projection would record deploy.done; do it here
    await state.deployments.update(
        first.id, lambda d: d.model_copy(update={"containers": done.containers, "previous_containers": done.previous})
    )
    await bus.publish(ProxyUpdated(deployment_id=first.id, **ids))
    ok = await asyncio.wait_for(out.get(), 60)
    assert isinstance(ok, DeploymentSucceeded) and ok.deployment_id == first.id
    await state.set_current(app.id, first.id)

    # the same build.done again (a redelivery): still exactly one container for that deployment
    second = await new_deployment(state, app, busybox_image)
    await bus.publish(BuildDone(deployment_id=second.id, **ids, image=busybox_image))
    await bus.publish(BuildDone(deployment_id=second.id, **ids, image=busybox_image), msg_id="redelivered")
    d2 = await asyncio.wait_for(out.get(), 60)
    assert isinstance(d2, DeployDone) and [c.name for c in d2.previous] == [c1.name]
    # the redelivery's deploy.done carries the same message id: JetStream keeps one
    for _ in range(200):  # both deliveries planned (each logs its plan) and finished starting
        lines = [x.line for x in await logstream.history(bus, second.id)]
        if sum("new container(s)" in line for line in lines) == 2:
            break
        await asyncio.sleep(0.05)
    assert sum("new container(s)" in line for line in lines) == 2
    await asyncio.sleep(0.5)
    running = subprocess.run(
        ["docker", "ps", "-q", "--filter", f"label=zpanel.deployment={second.id}"], capture_output=True, text=True
    ).stdout.split()
    assert len(running) == 1
    await state.deployments.update(second.id, lambda d: d.model_copy(update={"previous_containers": d2.previous}))
    await bus.publish(
        HealthFailed(
            deployment_id=second.id, **ids, containers=d2.containers, reason="GET / answered 500", log_tail=["boom"]
        )
    )
    rolled = await asyncio.wait_for(out.get(), 60)
    assert (
        isinstance(rolled, DeploymentRolledBack)
        and rolled.reason == "GET / answered 500"
        and rolled.log_tail == ["boom"]
    )
    gone = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=zpanel.deployment={second.id}"], capture_output=True, text=True
    ).stdout
    assert gone.strip() == ""
    assert get(c1.address) == "zpanel test image\n"  # the old version kept serving


async def test_a_failing_pre_deploy_command_fails_with_the_old_version_untouched(rig: Any, busybox_image: str) -> None:
    bus, state, out, app = rig
    app = app.model_copy(update={"pre_deploy": "echo migrating; exit 4"})
    dep = await new_deployment(state, app, busybox_image)
    await bus.publish(BuildDone(deployment_id=dep.id, app_id=app.id, server_id="local", image=busybox_image))
    failed = await asyncio.wait_for(out.get(), 60)
    assert isinstance(failed, DeployFailed), failed
    assert "pre-deploy" in failed.reason or "pre-deployment" in failed.reason
    left = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=zpanel.deployment={dep.id}"], capture_output=True, text=True
    ).stdout
    assert left.strip() == ""


async def test_a_cancelled_deployment_is_cleaned_up_even_before_its_record_shows_the_image(
    rig: Any, busybox_image: str, tmp_path: Path
) -> None:
    """The record may lag behind build.done (no image yet): its containers, found by label, go anyway."""
    bus, state, _out, app = rig
    dep = await new_deployment(state, app, busybox_image)
    await state.deployments.update(dep.id, lambda d: d.model_copy(update={"image": None}))
    name = f"{app.name}-{dep.id[:12]}-leftover"
    labels = ["--label", f"zpanel.app={app.id}", "--label", f"zpanel.deployment={dep.id}"]
    subprocess.run(["docker", "run", "-d", "--name", name, *labels, busybox_image], check=True, capture_output=True)
    worker = DeployWorker(bus, bus.settings, Cipher.from_home(tmp_path / "home"))
    await worker.clean_up(await state.deployments.get(dep.id))
    left = subprocess.run(["docker", "ps", "-aq", "--filter", f"name={name}"], capture_output=True, text=True)
    assert left.stdout.split() == []


def test_placement_names_the_acme_resolver_only_when_configured(tmp_path: Path) -> None:
    from zpanel.settings import load

    local = Server(name="local", kind="local")
    plain = DeployWorker(None, load(home=tmp_path), Cipher.from_home(tmp_path))  # type: ignore[arg-type]
    acme = DeployWorker(None, load(home=tmp_path, acme_email="ops@example.com"), Cipher.from_home(tmp_path))  # type: ignore[arg-type]
    assert plain.placement(local).certresolver is None
    assert acme.placement(local).certresolver == "letsencrypt"
