"""The builder stage on real NATS, real git and the real Docker engine."""

from __future__ import annotations

import asyncio
import subprocess
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from nats.js.api import DeliverPolicy

from tests.builder.helpers import make_repo
from tests.harness.nats import NatsServer
from tests.shared.conftest import fast_settings
from zpanel import logstream, subjects
from zpanel.bus import Bus
from zpanel.events import BuildDone, BuildFailed, DeploymentCancelled, DeploymentRequested, Event, parse
from zpanel.models import Application, Deployment, EnvVar
from zpanel.secrets import Cipher
from zpanel.state import State
from zpanel_builder.buildkit import DockerClient
from zpanel_builder.executor import DockerBuilder
from zpanel_builder.worker import Builder

OUTCOMES = ("build.done.*", "build.failed.*", "deployment.cancelled.*")


@dataclass
class Rig:
    bus: Bus
    state: State
    cipher: Cipher
    outcomes: asyncio.Queue[Event]
    repo: Path
    images: list[str]

    async def request(self, app: Application, commit: str | None = None, image: str | None = None) -> Deployment:
        dep = Deployment(id=uuid.uuid4().hex, app_id=app.id, app_name=app.name, server_id="local", spec=app)
        await self.state.create_deployment(dep)
        await self.bus.publish(
            DeploymentRequested(
                deployment_id=dep.id, app_id=app.id, server_id="local", trigger="manual", commit=commit, image=image
            )
        )
        return dep

    async def outcome(self, timeout: float = 90) -> Event:
        return await asyncio.wait_for(self.outcomes.get(), timeout)


@pytest.fixture
async def rig(
    own_nats: NatsServer, tmp_path: Path, docker_client: DockerClient, busybox_image: str
) -> AsyncIterator[Rig]:
    settings = fast_settings(own_nats.url, home=tmp_path / "home", ack_wait_s=10.0)
    bus = await Bus.connect(settings, name="builder-test")
    await bus.provision()
    cipher = Cipher.from_home(settings.home)
    builder = Builder(bus, settings, DockerBuilder(docker_client, timeout=120), cipher)
    await bus.consume(
        stage="builder",
        subjects=[subjects.stage("deployment.requested", "*")],
        stream="PIPELINE",
        handler=builder.handle,
    )
    outcomes: asyncio.Queue[Event] = asyncio.Queue()

    async def on_outcome(msg) -> None:  # type: ignore[no-untyped-def]
        await outcomes.put(parse(msg.data))

    for s in OUTCOMES:
        await bus.js.subscribe(s, cb=on_outcome, ordered_consumer=True, deliver_policy=DeliverPolicy.NEW)
    rig = Rig(bus, State(bus), cipher, outcomes, tmp_path / "repo", [])
    yield rig
    await bus.close()
    for image in rig.images:
        subprocess.run(["docker", "image", "rm", "-f", image], capture_output=True)


def app_for(rig: Rig, **over: object) -> Application:
    name = f"bw-{uuid.uuid4().hex[:8]}"
    app = Application(id=f"app-{name}", name=name, repo=str(rig.repo), server="local", **over)  # type: ignore[arg-type]
    rig.images.append(f"{name}")
    return app


async def test_dockerfile_app_builds_streams_its_log_and_hides_secret_build_vars(rig: Rig) -> None:
    canary = f"canary-{uuid.uuid4().hex[:8]}"
    commit = make_repo(
        rig.repo,
        {
            "Dockerfile": "FROM zpanel-test/busybox:1\nARG GREETING\n"
            f'RUN --mount=type=secret,id=NPM_TOKEN echo "{canary[-8:]} token is $(cat /run/secrets/NPM_TOKEN)"\n'
            'RUN echo "greeting=$GREETING" > /www/index.html\n',
        },
    )
    app = app_for(
        rig,
        env=[
            EnvVar(key="NPM_TOKEN", value=rig.cipher.seal(canary), secret=True, build_time=True),
            EnvVar(key="GREETING", value="hello", build_time=True),
        ],
    )
    dep = await rig.request(app, commit=commit)
    done = await rig.outcome()
    assert isinstance(done, BuildDone), done
    assert done.image == f"{app.name}:{commit[:12]}" and done.commit == commit and not done.cached
    rig.images.append(done.image)
    labels = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{json .Config.Labels}}", done.image],
        capture_output=True,
        text=True,
    ).stdout
    assert f'"zpanel.commit":"{commit}"' in labels and f'"zpanel.app":"{app.id}"' in labels
    history = subprocess.run(["docker", "history", "--no-trunc", done.image], capture_output=True, text=True).stdout
    assert canary not in history
    lines = [x.line for x in await logstream.history(rig.bus, dep.id)]
    assert any(f"checking out {rig.repo} at {commit[:12]}" == x for x in lines)
    assert any("token is ********" in x or "token is ***" in x for x in lines)
    assert not any(canary in x for x in lines)

    again = await rig.request(app, commit=commit)  # same commit and configuration: no second build
    reused = await rig.outcome()
    assert isinstance(reused, BuildDone) and reused.cached and reused.deployment_id == again.id


async def test_broken_dockerfile_fails_with_the_failing_line(rig: Rig) -> None:
    commit = make_repo(rig.repo, {"Dockerfile": "FROM zpanel-test/busybox:1\nRUN echo building && exit 3\n"})
    app = app_for(rig)
    await rig.request(app, commit=commit)
    failed = await rig.outcome()
    assert isinstance(failed, BuildFailed), failed
    assert "RUN echo building && exit 3" in failed.reason
    assert failed.log_tail


async def test_unknown_commit_fails_clearly(rig: Rig) -> None:
    make_repo(rig.repo, {"Dockerfile": "FROM zpanel-test/busybox:1\n"})
    await rig.request(app_for(rig), commit="0" * 40)
    failed = await rig.outcome()
    assert isinstance(failed, BuildFailed), failed
    assert "0000000" in failed.reason


async def test_rollback_reuses_the_image_without_building(rig: Rig, busybox_image: str) -> None:
    await rig.request(app_for(rig), image=busybox_image)
    done = await rig.outcome()
    assert isinstance(done, BuildDone) and done.cached and done.image == busybox_image
    await rig.request(app_for(rig), image="zpanel-test/missing:nope")
    failed = await rig.outcome()
    assert isinstance(failed, BuildFailed)
    assert (
        failed.reason
        == "image zpanel-test/missing:nope is gone from this machine: deploy the commit again to rebuild it"
    )


async def test_cancel_kills_a_running_build(rig: Rig) -> None:
    commit = make_repo(rig.repo, {"Dockerfile": "FROM zpanel-test/busybox:1\nRUN echo started && sleep 60\n"})
    dep = await rig.request(app_for(rig), commit=commit)
    for _ in range(200):
        if any("started" in x.line for x in await logstream.history(rig.bus, dep.id)):
            break
        await asyncio.sleep(0.1)
    await rig.bus.nc.publish(subjects.cancel(dep.id), b"")
    cancelled = await rig.outcome(timeout=20)
    assert isinstance(cancelled, DeploymentCancelled) and cancelled.deployment_id == dep.id
    assert cancelled.reason == "cancelled during the build"
