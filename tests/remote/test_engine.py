"""The local executor's Engine API path against the real engine: the same exit codes, output and
containers as the docker CLI for the same argv, and the CLI when no socket answers."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from zpanel.remote.engine import DEFAULT_SOCKET, Engine, socket_path
from zpanel.remote.local import LocalExecutor
from zpanel_deployer.commands import docker as D
from zpanel_deployer.containers import parse_inspect

pytestmark = pytest.mark.usefixtures("docker_engine")

SAME = [
    ("Config", "Labels"),
    ("Config", "Env"),
    ("Config", "Image"),
    ("Config", "ExposedPorts"),
    ("HostConfig", "RestartPolicy"),
    ("HostConfig", "PortBindings"),
    ("HostConfig", "LogConfig"),
    ("HostConfig", "Memory"),
    ("HostConfig", "NanoCpus"),
    ("HostConfig", "PidsLimit"),
    ("HostConfig", "NetworkMode"),
    ("HostConfig", "Binds"),
]


@pytest.fixture
async def api() -> LocalExecutor:
    ex = LocalExecutor(engine=Engine(DEFAULT_SOCKET))
    yield ex
    await ex.close()


def spec(name: str, image: str, owned: dict[str, str], env_file: Path, volume: Path) -> D.ContainerSpec:
    return D.ContainerSpec(
        name=name,
        image=image,
        labels={**owned, "zpanel.app": "engine-test"},
        env_file=str(env_file),
        publish=(D.Publish(8080),),
        volumes=(f"{volume}:/data:ro",),
        limits=D.Limits(memory="64m", cpus=0.5, pids=50),
        command=("sleep", "60"),
    )


async def test_run_makes_the_container_docker_run_makes(
    api: LocalExecutor, busybox_image: str, owned: dict[str, str], tmp_path: Path
) -> None:
    env = tmp_path / ".env"
    env.write_text("A=1\nB=two words\n")
    uid = uuid.uuid4().hex[:8]
    cli = LocalExecutor(engine=None)
    by_api = await api.run(D.run(spec(f"zp-api-{uid}", busybox_image, owned, env, tmp_path)))
    by_cli = await cli.run(D.run(spec(f"zp-cli-{uid}", busybox_image, owned, env, tmp_path)))
    assert len(by_api.out.strip()) == 64 and by_api.err == ""
    made = json.loads((await api.run(D.inspect(f"zp-api-{uid}", f"zp-cli-{uid}"))).out)
    assert [c["Id"] for c in made] == [by_api.out.strip(), by_cli.out.strip()]
    assert [made[0][a][b] for a, b in SAME] == [made[1][a][b] for a, b in SAME]
    assert made[0]["Config"]["Env"][:2] == ["A=1", "B=two words"]
    assert [c["State"]["Running"] for c in made] == [True, True]


async def test_reads_answer_as_the_cli_does(
    api: LocalExecutor, busybox_image: str, owned: dict[str, str], tmp_path: Path
) -> None:
    env = tmp_path / ".env"
    env.write_text("")
    name = f"zp-api-{uuid.uuid4().hex[:8]}"
    cli = LocalExecutor(engine=None)
    await api.run(D.run(spec(name, busybox_image, owned, env, tmp_path)))
    ps = D.ps(owned)
    assert (await api.run(ps)).out == (await cli.run(ps)).out
    both = D.inspect(name, f"{name}-missing")
    got, want = await api.run(both, check=False), await cli.run(both, check=False)
    assert (got.returncode, got.err) == (1, f"Error response from daemon: No such container: {name}-missing\n")
    assert want.returncode == 1 and f"No such container: {name}-missing" in want.err  # wording varies by CLI
    assert parse_inspect(got.out) == parse_inspect(want.out)
    assert (await api.run(D.image_id(busybox_image))).out == (await cli.run(D.image_id(busybox_image))).out


async def test_failures_carry_the_cli_messages_the_deployer_matches(
    api: LocalExecutor, busybox_image: str, owned: dict[str, str], tmp_path: Path
) -> None:
    env = tmp_path / ".env"
    env.write_text("")
    name = f"zp-api-{uuid.uuid4().hex[:8]}"
    first = await api.run(D.run(spec(name, busybox_image, owned, env, tmp_path)))
    again = await api.run(D.run(spec(name, busybox_image, owned, env, tmp_path)), check=False)
    assert again.returncode == 125 and "is already in use" in again.err
    stopped = await api.run(D.stop(name, f"{name}-gone", timeout=0), check=False)
    assert (stopped.returncode, stopped.out) == (1, f"{name}\n")
    assert stopped.err == f"Error response from daemon: No such container: {name}-gone\n"
    gone = await api.run(D.image_id("zpanel-test/none:0"), check=False)
    assert (gone.returncode, gone.err) == (1, "Error: No such image: zpanel-test/none:0\n")
    removed = await api.run(D.rm(name))
    assert removed.out == f"{name}\n"
    assert (await api.run(D.ps(owned))).out == ""
    assert first.ok


async def test_no_socket_means_the_cli_runs_the_argv(tmp_path: Path, busybox_image: str) -> None:
    ex = LocalExecutor(engine=Engine(str(tmp_path / "no.sock")))
    assert (await ex.run(D.image_id(busybox_image))).out.startswith("sha256:")


def test_socket_is_the_one_the_cli_would_use(tmp_path: Path) -> None:
    (tmp_path / ".docker").mkdir()
    assert socket_path({"DOCKER_HOST": "unix:///run/x.sock"}, tmp_path) == "/run/x.sock"
    assert socket_path({"DOCKER_HOST": "tcp://127.0.0.1:2375"}, tmp_path) is None
    assert socket_path({"DOCKER_HOST": "ssh://root@box"}, tmp_path) is None
    assert socket_path({"DOCKER_CONTEXT": "remote"}, tmp_path) is None
    (tmp_path / ".docker" / "config.json").write_text('{"currentContext": "remote"}')
    assert socket_path({}, tmp_path) is None
    (tmp_path / ".docker" / "config.json").write_text('{"currentContext": "default"}')
    assert socket_path({}, tmp_path) == DEFAULT_SOCKET
