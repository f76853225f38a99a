"""The deployer stage on real NATS and the real Docker engine (server `local`)."""

from __future__ import annotations

import asyncio
import subprocess
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from nats.js.api import DeliverPolicy

from tests.harness import containers
from tests.harness.nats import NatsServer
from tests.shared.conftest import fast_settings
from zpanel import logstream
from zpanel.bus import Bus
from zpanel.events import (
    BuildDone,
    DeployDone,
    DeployFailed,
    DeploymentCancelled,
    DeploymentFailed,
    DeploymentRolledBack,
    DeploymentSucceeded,
    DeployReverting,
    Event,
    HealthFailed,
    ProxyRestored,
    ProxyUpdated,
    parse,
)
from zpanel.models import Application, Deployment, Server
from zpanel.secrets import Cipher
from zpanel.state import State
from zpanel_deployer.worker import DeployWorker


def get(address: str, within: float = 10.0) -> str:
    """The page, once httpd answers: deploy.done comes as the container starts, before its app
    listens (health waits for that), and Docker's port proxy drops a connection made earlier."""
    deadline = time.monotonic() + within
    while True:
        try:
            with urllib.request.urlopen(f"http://{address}/", timeout=5) as r:
                return r.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


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
        event_types=[
            "build.done",
            "health.failed",
            "proxy.updated",
            "proxy.failed",
            "proxy.restored",
            "deployment.failed",
        ],
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
    containers.start(busybox_image, name=name, labels={"zpanel.app": app.id, "zpanel.deployment": dep.id})
    worker = DeployWorker(bus, bus.settings, Cipher.from_home(tmp_path / "home"))
    await worker.clean_up(await state.deployments.get(dep.id))
    left = subprocess.run(["docker", "ps", "-aq", "--filter", f"name={name}"], capture_output=True, text=True)
    assert left.stdout.split() == []


def running(dep_id: str) -> list[str]:
    argv = ["docker", "ps", "-q", "--filter", f"label=zpanel.deployment={dep_id}"]
    return sorted(subprocess.run(argv, capture_output=True, text=True).stdout.split())


async def test_a_rolling_update_cancelled_between_batches_routes_back_before_removing(
    rig: Any, busybox_image: str
) -> None:
    """Two replicas: the first deployment goes round twice. The second is cancelled once its first
    new replica serves beside an old one: the deployer asks for the route back (deploy.reverting)
    and removes nothing; a failed route-back leaves both versions running (failed, stage
    route-back); a route-back that took removes the new replica (cancelled)."""
    bus, state, out, app = rig
    app = app.model_copy(update={"strategy": "rolling", "replicas": 2, "drain_timeout": 1})
    ids = {"app_id": app.id, "server_id": "local"}
    reverting: asyncio.Queue[Event] = asyncio.Queue()

    async def on(msg: Any) -> None:
        await reverting.put(parse(msg.data))

    for s in ("deploy.reverting.*", "deployment.failed.*", "deployment.cancelled.*"):
        await bus.js.subscribe(s, cb=on, ordered_consumer=True, deliver_policy=DeliverPolicy.NEW)

    async def record(dep_id: str, done: DeployDone) -> None:  # what the projection would write
        await state.deployments.update(
            dep_id, lambda d: d.model_copy(update={"containers": done.containers, "previous_containers": done.previous})
        )

    first = await new_deployment(state, app, busybox_image)
    await bus.publish(BuildDone(deployment_id=first.id, **ids, image=busybox_image))
    for batch in (1, 2):
        done = await asyncio.wait_for(out.get(), 60)
        assert isinstance(done, DeployDone) and (done.batch, done.batches) == (batch, 2), done
        assert [c.name for c in done.containers] == [f"{app.name}-{first.id[:12]}-{r}" for r in range(batch)]
        assert done.route == done.containers  # nothing old to keep routing to
        await record(first.id, done)
        await bus.publish(ProxyUpdated(deployment_id=first.id, **ids, batch=batch, batches=2))
    assert isinstance(await asyncio.wait_for(out.get(), 60), DeploymentSucceeded)
    await state.set_current(app.id, first.id)
    old = running(first.id)
    assert len(old) == 2

    second = await new_deployment(state, app, busybox_image)
    await bus.publish(BuildDone(deployment_id=second.id, **ids, image=busybox_image))
    done = await asyncio.wait_for(out.get(), 60)
    assert isinstance(done, DeployDone) and done.batch == 1
    o0, o1 = (f"{app.name}-{first.id[:12]}-{r}" for r in (0, 1))
    n0 = f"{app.name}-{second.id[:12]}-0"
    assert ([c.name for c in done.containers], [c.name for c in done.route]) == ([n0], [n0, o1])
    await record(second.id, done)
    await state.deployments.update(second.id, lambda d: d.model_copy(update={"cancel_requested": True}))
    await bus.publish(ProxyUpdated(deployment_id=second.id, **ids, batch=1, batches=2))
    back = await asyncio.wait_for(reverting.get(), 60)
    assert isinstance(back, DeployReverting) and back.outcome == "cancelled", back
    assert [c.name for c in back.route] == [o0, o1]
    assert running(first.id) == old and len(running(second.id)) == 1

    await bus.publish(
        ProxyRestored(deployment_id=second.id, **ids, reason=back.reason, outcome="cancelled", error="proxy down")
    )
    failed = await asyncio.wait_for(reverting.get(), 60)
    assert isinstance(failed, DeploymentFailed) and failed.stage == "route-back", failed
    assert "routing back to the previous version failed: proxy down" in (failed.reason or "")
    await asyncio.sleep(1.0)  # the deployer has seen its own deployment.failed by now: removes nothing
    assert running(first.id) == old and len(running(second.id)) == 1

    restored = ProxyRestored(deployment_id=second.id, **ids, reason=back.reason, outcome="cancelled")
    await bus.publish(restored, msg_id="restored-again")
    cancelled = await asyncio.wait_for(reverting.get(), 60)
    assert isinstance(cancelled, DeploymentCancelled) and cancelled.reason == "cancelled during the rolling update"
    for _ in range(100):  # the deployer also cleans up on its own deployment.cancelled: either way, gone
        if not running(second.id):
            break
        await asyncio.sleep(0.1)
    assert running(second.id) == [] and running(first.id) == old


async def test_a_failed_deployment_the_proxy_already_routes_to_is_left_serving(
    rig: Any, busybox_image: str, tmp_path: Path
) -> None:
    """A deadline (the sweeper's deployment.failed) after a switch: its containers answer requests,
    so clean-up leaves them, and says so in the log. Before any switch, they go."""
    bus, state, _out, app = rig
    dep = await new_deployment(state, app, busybox_image)
    name = f"{app.name}-{dep.id[:12]}-0"
    containers.start(busybox_image, name=name, labels={"zpanel.app": app.id, "zpanel.deployment": dep.id})
    await state.deployments.update(dep.id, lambda d: d.model_copy(update={"routed_at": d.created_at}))
    worker = DeployWorker(bus, bus.settings, Cipher.from_home(tmp_path / "home"))
    await worker.clean_up(await state.deployments.get(dep.id))
    assert running(dep.id) != []
    lines = [x.line for x in await logstream.history(bus, dep.id)]
    assert f"left running: {name} (the proxy already sends traffic to them)" in lines
    await state.deployments.update(dep.id, lambda d: d.model_copy(update={"routed_at": None}))
    await worker.clean_up(await state.deployments.get(dep.id))
    assert running(dep.id) == []


def test_placement_names_the_acme_resolver_only_when_configured(tmp_path: Path) -> None:
    from zpanel.settings import load

    local = Server(name="local", kind="local")
    plain = DeployWorker(None, load(home=tmp_path), Cipher.from_home(tmp_path))  # type: ignore[arg-type]
    acme = DeployWorker(None, load(home=tmp_path, acme_email="ops@example.com"), Cipher.from_home(tmp_path))  # type: ignore[arg-type]
    assert plain.placement(local).certresolver is None
    assert acme.placement(local).certresolver == "letsencrypt"
