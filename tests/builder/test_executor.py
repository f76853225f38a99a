"""Real BuildKit builds from the local busybox image, from real git repositories."""

from __future__ import annotations

import asyncio
import json
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

from tests.builder.helpers import make_repo, tree
from zpanel.models import BuildSettings
from zpanel_builder.baseimages import BaseImages
from zpanel_builder.build import BuildSpec, image_ref
from zpanel_builder.buildkit import DockerClient
from zpanel_builder.checkout import SourceCache
from zpanel_builder.errors import BuildFailed, BuildTimeout
from zpanel_builder.executor import DockerBuilder
from zpanel_builder.recipe import plan_build

pytestmark = pytest.mark.docker


def docker(client: DockerClient, *args: str) -> str:
    return subprocess.run([client.path, *args], check=True, capture_output=True, text=True).stdout


async def checkout_app(tmp_path: Path, files: dict[str, str]) -> tuple[Path, str]:
    commit = make_repo(tmp_path / "repo", files)
    out = await SourceCache(tmp_path / "cache").checkout(str(tmp_path / "repo"), commit, tmp_path / "src")
    return out.path, out.commit


def spec_for(image_name: str, root: Path, commit: str, **kw: object) -> BuildSpec:
    text = (root / "Dockerfile").read_text()
    return BuildSpec(
        image=image_ref(image_name, commit),
        context=root,
        dockerfile=root / "Dockerfile",
        dockerfile_text=text,
        app_id="app-1",
        commit=commit,
        deployment_id=kw.pop("deployment_id", "dep-1"),
        **kw,  # type: ignore[arg-type]
    )


async def test_dockerfile_app_builds_tagged_and_labelled_by_commit(
    tmp_path: Path, busybox_image: str, docker_client: DockerClient, image_name: str
) -> None:
    root, commit = await checkout_app(
        tmp_path,
        {
            "Dockerfile": f'FROM {busybox_image}\nARG GREETING\nCOPY index.html /www/index.html\nRUN echo "$GREETING" > /greeting\n',
            "index.html": "hello from git\n",
        },
    )
    lines: list[str] = []
    result = await DockerBuilder(docker_client).build(
        spec_for(image_name, root, commit, args={"GREETING": "hi"}), on_line=lines.append
    )
    assert (result.image, result.cached) == (f"{image_name}:{commit[:12]}", False)
    inspect = json.loads(docker(docker_client, "image", "inspect", result.image))[0]
    assert inspect["Id"] == result.image_id
    labels = inspect["Config"]["Labels"]
    assert {k: v for k, v in labels.items() if k != "zpanel.build-key"} == {
        "zpanel.app": "app-1",
        "zpanel.commit": commit,
        "zpanel.deployment": "dep-1",
    }
    assert labels["zpanel.build-key"] == result.build_key
    assert (
        docker(docker_client, "run", "--rm", result.image, "cat", "/www/index.html", "/greeting")
        == "hello from git\nhi\n"
    )
    assert lines[0] == f"$ docker build --tag {result.image} ({docker_client.describe()})"
    assert any("[3/3] RUN echo" in line for line in lines)


async def test_same_build_key_is_reused_without_building(
    tmp_path: Path, busybox_image: str, docker_client: DockerClient, image_name: str
) -> None:
    root, commit = await checkout_app(tmp_path, {"Dockerfile": f"FROM {busybox_image}\nRUN echo {uuid.uuid4().hex}\n"})
    builder = DockerBuilder(docker_client)
    first = await builder.build(spec_for(image_name, root, commit))
    lines: list[str] = []
    second = await builder.build(spec_for(image_name, root, commit, deployment_id="dep-2"), on_line=lines.append)
    assert (second.cached, second.image_id, second.build_key) == (True, first.image_id, first.build_key)
    assert lines == [f"image {second.image} was built from this commit with this build configuration: no build"]
    assert docker(docker_client, "image", "inspect", "--format", "{{.Id}}", second.image).strip() == first.image_id


async def test_same_commit_with_another_build_configuration_builds_again(
    tmp_path: Path, busybox_image: str, docker_client: DockerClient, image_name: str
) -> None:
    root, commit = await checkout_app(
        tmp_path, {"Dockerfile": f"FROM {busybox_image}\nARG X\nRUN echo {uuid.uuid4().hex} $X > /x\n"}
    )
    builder = DockerBuilder(docker_client)
    first = await builder.build(spec_for(image_name, root, commit, args={"X": "1"}))
    second = await builder.build(spec_for(image_name, root, commit, args={"X": "2"}))
    assert (second.cached, second.image) == (False, first.image)
    assert second.build_key != first.build_key and second.image_id != first.image_id
    assert await builder.find_cached(first.image, first.build_key) is None  # the tag moved on
    assert await builder.find_cached(second.image, second.build_key) == second.image_id


async def test_broken_dockerfile_fails_with_the_failing_line(
    tmp_path: Path, busybox_image: str, docker_client: DockerClient, image_name: str
) -> None:
    root, commit = await checkout_app(
        tmp_path,
        {
            "Dockerfile": f"FROM {busybox_image}\nRUN echo ok-{uuid.uuid4().hex[:6]}\nRUN echo failing && exit 3\n",
        },
    )
    with pytest.raises(BuildFailed) as info:
        await DockerBuilder(docker_client).build(spec_for(image_name, root, commit))
    assert info.value.failing_line == "[3/3] RUN echo failing && exit 3"
    assert info.value.reason == (
        "build step [3/3] RUN echo failing && exit 3 failed: "
        "executor failed running [/bin/sh -c echo failing && exit 3]: exit code: 3"
    )
    assert info.value.tail[-1] == "executor failed running [/bin/sh -c echo failing && exit 3]: exit code: 3"


async def test_unparseable_dockerfile_names_its_line(
    tmp_path: Path, busybox_image: str, docker_client: DockerClient, image_name: str
) -> None:
    root, commit = await checkout_app(tmp_path, {"Dockerfile": f"FROM {busybox_image}\nNOPE this\n"})
    with pytest.raises(BuildFailed, match=r'unknown instruction: NOPE \(Dockerfile line 2: "NOPE this"\)'):
        await DockerBuilder(docker_client).build(spec_for(image_name, root, commit))


async def test_secret_build_variable_never_reaches_history_or_log(
    tmp_path: Path, busybox_image: str, docker_client: DockerClient, image_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = f"s3cr3t-{uuid.uuid4().hex}"
    root, commit = await checkout_app(
        tmp_path,
        {
            "Dockerfile": (
                f"FROM {busybox_image}\n"
                f"RUN --mount=type=secret,id=API_TOKEN echo {uuid.uuid4().hex} && test -s /run/secrets/API_TOKEN "
                '&& echo "token is $(cat /run/secrets/API_TOKEN)" && wc -c < /run/secrets/API_TOKEN > /token-length\n'
            ),
        },
    )
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private_tmp))
    lines: list[str] = []
    result = await DockerBuilder(docker_client).build(
        spec_for(image_name, root, commit, secret_names=("API_TOKEN",)),
        secrets={"API_TOKEN": secret},
        on_line=lines.append,
    )
    assert any(line.endswith("token is ***") for line in lines)  # the step printed it; the log masked it
    assert not [line for line in lines if secret in line]
    history = docker(docker_client, "history", "--no-trunc", result.image)
    inspect = docker(docker_client, "image", "inspect", result.image)
    assert "API_TOKEN" in history and secret not in history and secret not in inspect
    assert docker(docker_client, "run", "--rm", result.image, "cat", "/token-length").strip() == str(len(secret))
    assert list(private_tmp.iterdir()) == []  # the 0600 secret file and its directory are gone


async def test_lines_stream_while_the_build_runs_and_a_timeout_kills_it(
    tmp_path: Path, busybox_image: str, docker_client: DockerClient, image_name: str
) -> None:
    marker = f"started-{uuid.uuid4().hex[:8]}"
    root, commit = await checkout_app(
        tmp_path, {"Dockerfile": f"FROM {busybox_image}\nRUN echo {marker} && sleep 60\n"}
    )
    seen_while_running: list[bool] = []
    task: asyncio.Task[object] | None = None

    def on_line(line: str) -> None:
        if line.endswith(marker):
            seen_while_running.append(task is not None and not task.done())

    task = asyncio.ensure_future(
        DockerBuilder(docker_client).build(spec_for(image_name, root, commit), on_line=on_line, timeout=4)
    )
    with pytest.raises(BuildTimeout, match="the build ran longer than 4s and was stopped"):
        await task
    assert seen_while_running == [True]


async def test_cancel_kills_the_build(
    tmp_path: Path, busybox_image: str, docker_client: DockerClient, image_name: str
) -> None:
    nap = f"{57 + uuid.uuid4().int % 1000}"
    root, commit = await checkout_app(tmp_path, {"Dockerfile": f"FROM {busybox_image}\nRUN echo go && sleep {nap}\n"})
    started = asyncio.Event()
    build = asyncio.ensure_future(
        DockerBuilder(docker_client).build(
            spec_for(image_name, root, commit), on_line=lambda line: started.set() if line.endswith(" go") else None
        )
    )
    await asyncio.wait_for(started.wait(), 30)
    assert f"sleep {nap}" in subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    build.cancel()
    with pytest.raises(asyncio.CancelledError):
        await build
    for _ in range(100):  # BuildKit stops the step once its client is gone
        if f"sleep {nap}" not in subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout:
            break
        await asyncio.sleep(0.1)
    assert f"sleep {nap}" not in subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout


async def test_generated_static_site_builds_and_serves_its_files(
    tmp_path: Path, busybox_image: str, docker_client: DockerClient, image_name: str
) -> None:
    recipe = plan_build(tree("static-dist"), BuildSettings(), BaseImages.all(busybox_image))
    commit = "f" * 40
    spec = BuildSpec(
        image=image_ref(image_name, commit),
        context=recipe.context,
        dockerfile_text=recipe.dockerfile_text,
        app_id="app-1",
        commit=commit,
        deployment_id="dep-1",
    )
    result = await DockerBuilder(docker_client).build(spec)
    assert docker(docker_client, "run", "--rm", result.image, "cat", "/www/index.html") == "<h1>dist</h1>\n"
    config = json.loads(docker(docker_client, "image", "inspect", result.image))[0]["Config"]
    assert config["Cmd"] == ["sh", "-c", "exec httpd -f -p $PORT -h /www"]
    assert "PORT=8080" in config["Env"]
