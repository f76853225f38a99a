"""The deploy routine against the real Docker engine, reached over a real sshd on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.deployer.conftest import Images
from tests.deployer.helpers import HttpHooks, app, get
from zpanel.models import Application
from zpanel.remote.ssh import SshExecutor
from zpanel_deployer.deploy import Deployer
from zpanel_deployer.errors import PreDeployError
from zpanel_deployer.request import DeployRequest, Placement
from zpanel_deployer.walker import PlanStepError, deploy, rollback, walk

MakeReq = Callable[..., DeployRequest]


def docker_json(*argv: str) -> Any:
    return json.loads(subprocess.run(["docker", *argv], capture_output=True, text=True, check=True).stdout)


def ids_of(label: str) -> list[str]:
    out = subprocess.run(
        ["docker", "ps", "-aq", "--no-trunc", "--filter", f"label={label}"], capture_output=True, text=True
    )
    return out.stdout.split()


def running(name: str) -> bool:
    return docker_json("inspect", name)[0]["State"]["Running"]


@pytest.fixture
def the_app() -> Application:
    uid = uuid.uuid4().hex
    return app(id=uid, name=f"t{uid[:8]}", port=8080)


@pytest.fixture
def deployer(remote: SshExecutor, apps_root: str) -> Deployer:
    return Deployer(remote, Placement(root=apps_root, stop_timeout=0))


@pytest.fixture
def make(owned: dict[str, str]) -> MakeReq:
    def make_req(app: Application, image: str, **kw: Any) -> DeployRequest:
        kw.setdefault("deployment_id", uuid.uuid4().hex)
        return DeployRequest(app=app, image=image, commit="c0ffee", extra_labels=owned, **kw)

    return make_req


async def test_deploy_over_ssh_then_replace_with_zero_downtime(
    deployer: Deployer, make: MakeReq, the_app: Application, images: Images, apps_root: str
) -> None:
    first = make(the_app, images.v1, env={"GREETING": "hi there"})
    hooks = HttpHooks()
    done = await deploy(deployer, first, hooks, sleep=_no_sleep)
    assert done.done
    (c1,) = done.containers
    assert c1.name == f"{the_app.name}-{first.deployment_id[:12]}-0"
    assert get(c1.address) == "v1\n"
    labels = docker_json("inspect", c1.name)[0]["Config"]["Labels"]
    assert (labels["zpanel.app"], labels["zpanel.deployment"], labels["zpanel.commit"]) == (
        the_app.id, first.deployment_id, "c0ffee",
    )  # fmt: skip
    folder = Path(apps_root) / the_app.name / first.deployment_id
    assert (folder / ".env").read_text() == "GREETING=hi there\n"
    assert (folder / ".env").stat().st_mode & 0o777 == 0o600
    assert "container_name: " + c1.name in (folder / "compose.yaml").read_text()
    env = docker_json("inspect", c1.name)[0]["Config"]["Env"]
    assert "GREETING=hi there" in env

    second = make(the_app, images.v2)
    done2 = await deploy(deployer, second, hooks, sleep=_no_sleep)
    (c2,) = done2.containers
    assert get(c2.address) == "v2\n"
    assert hooks.switches == [[c1.name], [c2.name]]
    assert ids_of(f"zpanel.app={the_app.id}") == [c2.id]  # the old one retired


async def _no_sleep(_seconds: float) -> None:
    return None


async def test_a_redelivered_deployment_ends_with_exactly_one_container(
    deployer: Deployer, make: MakeReq, the_app: Application, images: Images
) -> None:
    req = make(the_app, images.v1)
    await deployer.prepare(req)
    plan = await deployer.plan(req)
    # the message delivered twice at once, then once more after the "crash"
    a, b = await asyncio.gather(walk(deployer, plan, req), walk(deployer, plan, req))
    c = await walk(deployer, await deployer.plan(req), req)
    assert a.reached == b.reached == c.reached == plan.first_external()
    assert a.containers == b.containers == c.containers
    assert ids_of(f"zpanel.deployment={req.deployment_id}") == [a.containers[0].id]
    assert get(a.containers[0].address) == "v1\n"


async def test_a_crash_leftover_created_but_stopped_container_is_started_not_duplicated(
    deployer: Deployer, make: MakeReq, the_app: Application, images: Images
) -> None:
    req = make(the_app, images.v1)
    await deployer.prepare(req)
    spec = deployer.spec(req, 0, f"{the_app.name}-{req.deployment_id[:12]}-0")
    from zpanel_deployer.commands import docker as D

    await deployer.ex.run(D.create(spec))
    ref = await deployer.ensure_replica(req, 0)
    assert ids_of(f"zpanel.deployment={req.deployment_id}") == [ref.id]
    assert running(ref.name)


async def test_failed_health_rolls_back_and_the_old_version_keeps_serving(
    deployer: Deployer, make: MakeReq, the_app: Application, images: Images
) -> None:
    good = await deploy(deployer, make(the_app, images.v1), HttpHooks(), sleep=_no_sleep)
    (old,) = good.containers
    bad = make(the_app, images.broken)
    hooks = HttpHooks(deadline=1.5)
    with pytest.raises(PlanStepError) as err:
        await deploy(deployer, bad, hooks, sleep=_no_sleep)
    new_name = f"{the_app.name}-{bad.deployment_id[:12]}-0"
    assert err.value.index == 1  # WaitHealthy
    report = err.value.rollback
    assert report is not None
    assert (report.removed, report.restarted, report.switch_back) == ([new_name], [], [])
    assert "the app crashed" in report.logs[new_name]
    assert ids_of(f"zpanel.app={the_app.id}") == [old.id]
    assert get(old.address) == "v1\n"
    assert hooks.switches == []


async def test_pipeline_rollback_after_a_hand_off_removes_the_new_containers(
    deployer: Deployer, make: MakeReq, the_app: Application, images: Images
) -> None:
    good = await deploy(deployer, make(the_app, images.v1), HttpHooks(), sleep=_no_sleep)
    req = make(the_app.model_copy(update={"strategy": "recreate"}), images.v2)
    await deployer.prepare(req)
    plan = await deployer.plan(req)
    progress = await walk(deployer, plan, req)  # stops where the health stage takes over
    assert (progress.reached, progress.waiting_for) == (2, plan.steps[2])
    assert not running(good.containers[0].name)  # recreate stopped the old one
    report = await rollback(deployer, plan, req, progress.reached)
    assert report.restarted == [good.containers[0].name]
    assert ids_of(f"zpanel.app={the_app.id}") == [good.containers[0].id]
    assert running(good.containers[0].name)
    # the restarted container got a new host port: read it back for the proxy
    (ref,) = await deployer.refs(req, [good.containers[0].name])
    await HttpHooks().wait_healthy([ref])
    assert get(ref.address) == "v1\n"


async def test_pre_deploy_failure_aborts_with_old_untouched_and_secrets_redacted(
    deployer: Deployer, make: MakeReq, the_app: Application, images: Images
) -> None:
    good = await deploy(deployer, make(the_app, images.v1), HttpHooks(), sleep=_no_sleep)
    spec = the_app.model_copy(update={"pre_deploy": 'echo "migrating with $TOKEN"; exit 9'})
    req = make(spec, images.v2, env={"TOKEN": "hunter2"}, secrets=frozenset({"hunter2"}))
    with pytest.raises(PlanStepError) as err:
        await deploy(deployer, req, HttpHooks(), sleep=_no_sleep)
    cause = err.value.cause
    assert isinstance(cause, PreDeployError)
    assert (cause.returncode, cause.output) == (9, ["migrating with ***"])
    assert ids_of(f"zpanel.app={the_app.id}") == [good.containers[0].id]
    assert get(good.containers[0].address) == "v1\n"


async def test_pre_and_post_deploy_output_is_kept(
    deployer: Deployer, make: MakeReq, the_app: Application, images: Images
) -> None:
    spec = the_app.model_copy(update={"pre_deploy": "echo migrated", "post_deploy": "cat /www/index.html"})
    done = await deploy(deployer, make(spec, images.v2), HttpHooks(), sleep=_no_sleep)
    assert (done.output, done.warnings) == (["migrated", "v2"], [])


async def test_rolling_with_two_replicas_switches_one_at_a_time(
    deployer: Deployer, make: MakeReq, the_app: Application, images: Images
) -> None:
    spec = the_app.model_copy(update={"strategy": "rolling", "replicas": 2})
    first = await deploy(deployer, make(spec, images.v1), HttpHooks(), sleep=_no_sleep)
    o0, o1 = (c.name for c in first.containers)
    hooks = HttpHooks()
    req = make(spec, images.v2)
    done = await deploy(deployer, req, hooks, sleep=_no_sleep)
    n0, n1 = (c.name for c in done.containers)
    assert hooks.switches == [[n0, o1], [n0, n1]]
    assert sorted(ids_of(f"zpanel.app={the_app.id}")) == sorted(c.id for c in done.containers)
    assert [get(c.address) for c in done.containers] == ["v2\n", "v2\n"]
    assert o0 != n0


async def test_blue_green_keeps_the_previous_stopped_and_prune_keeps_the_last_n(
    deployer: Deployer, make: MakeReq, the_app: Application, images: Images, busybox_image: str, apps_root: str
) -> None:
    repo = f"zpanel-test/prune-{uuid.uuid4().hex[:8]}"
    for tag, source in (("a", images.v1), ("b", images.v2), ("c", busybox_image)):
        subprocess.run(["docker", "tag", source, f"{repo}:{tag}"], check=True)
    try:
        spec = the_app.model_copy(update={"strategy": "blue-green"})
        reqs = [make(spec, f"{repo}:{tag}") for tag in "abc"]
        done = [await deploy(deployer, r, HttpHooks(), sleep=_no_sleep) for r in reqs]
        names = [p.containers[0].name for p in done]
        assert [running(n) for n in names] == [False, False, True]
        pruned = await deployer.prune(reqs[2], keep=2, recent_images=[f"{repo}:{t}" for t in "cba"])
        assert (pruned.containers, pruned.images, pruned.warnings) == ([names[0]], [f"{repo}:a"], [])
        assert sorted(ids_of(f"zpanel.app={the_app.id}")) == sorted(p.containers[0].id for p in done[1:])
        assert sorted(p.name for p in (Path(apps_root) / the_app.name).iterdir()) == sorted(
            r.deployment_id for r in reqs[1:]
        )
        left = subprocess.run(["docker", "image", "ls", "--format", "{{.Tag}}", repo], capture_output=True, text=True)
        assert sorted(left.stdout.split()) == ["b", "c"]
    finally:
        subprocess.run(["docker", "image", "rm", f"{repo}:a", f"{repo}:b", f"{repo}:c"], capture_output=True)


@pytest.mark.parametrize("where", ["ssh", "local engine API"])
async def test_limits_and_named_volumes_reach_the_containers_and_outlive_a_deployment(
    where: str, remote: SshExecutor, make: MakeReq, the_app: Application, images: Images, apps_root: str
) -> None:
    from zpanel.remote.local import LocalExecutor

    ex = remote if where == "ssh" else LocalExecutor()
    deployer = Deployer(ex, Placement(root=apps_root, stop_timeout=0))
    spec = the_app.model_copy(
        update={"memory": "64m", "cpus": 0.5, "volumes": ["data:/data"], "pre_deploy": "echo kept > /data/mark"}
    )
    volume = f"zpanel-{the_app.id}-data"
    try:
        first = await deploy(deployer, make(spec, images.v1), HttpHooks(), sleep=_no_sleep)
        assert first.done
        later = spec.model_copy(update={"pre_deploy": None})
        second = await deploy(deployer, make(later, images.v2), HttpHooks(), sleep=_no_sleep)
        (c2,) = second.containers
        host = docker_json("inspect", c2.name)[0]["HostConfig"]
        assert (host["Memory"], host["NanoCpus"]) == (64 * 1024 * 1024, 500_000_000)
        mounts = docker_json("inspect", c2.name)[0]["Mounts"]
        assert [(m["Type"], m["Name"], m["Destination"], m["RW"]) for m in mounts] == [
            ("volume", volume, "/data", True)
        ]
        seen = subprocess.run(["docker", "exec", c2.name, "cat", "/data/mark"], capture_output=True, text=True)
        assert seen.stdout == "kept\n"  # written by the first deployment's pre-deploy command
    finally:
        if where != "ssh":
            await ex.close()  # type: ignore[union-attr]
        subprocess.run(["docker", "rm", "-f", *ids_of(f"zpanel.app={the_app.id}")], capture_output=True)
        subprocess.run(["docker", "volume", "rm", "-f", volume], capture_output=True)
