from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from zpanel_builder.buildkit import DockerClient
from zpanel_builder.compose import image_override, service_builds
from zpanel_builder.errors import DetectError, InvalidSource
from zpanel_builder.executor import DockerBuilder

SHA = "abcdef0123456789abcdef0123456789abcdef01"


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_every_service_with_a_build_section_becomes_a_spec(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "deploy/compose.yml": (
                "services:\n"
                "  web:\n    build: ../web\n"
                "  worker_1:\n    build:\n      context: ../worker\n      dockerfile: ../docker/Worker.Dockerfile\n"
                "      target: run\n      args: [MODE=fast, EMPTY]\n"
                "  db:\n    image: postgres:16\n"
            ),
            "web/Dockerfile": "FROM a\n",
            "worker/main.py": "",
            "docker/Worker.Dockerfile": "FROM b\n",
        },
    )
    specs = service_builds(root, "deploy/compose.yml", app_name="shop", app_id="a1", commit=SHA, deployment_id="d1")
    assert sorted(specs) == ["web", "worker_1"]
    web, worker = specs["web"], specs["worker_1"]
    assert (web.image, web.context, web.dockerfile, web.dockerfile_text, web.context_path, web.args) == (
        "shop-web:abcdef012345",
        (root / "web").resolve(),
        (root / "web/Dockerfile").resolve(),
        "FROM a\n",
        "web",
        {},
    )
    assert (worker.image, worker.dockerfile, worker.target, worker.args) == (
        "shop-worker-1:abcdef012345",
        (root / "docker/Worker.Dockerfile").resolve(),
        "run",
        {"MODE": "fast", "EMPTY": ""},
    )
    assert image_override({"web": web.image}) == {"services": {"web": {"image": "shop-web:abcdef012345"}}}


def test_compose_errors_are_clear(tmp_path: Path) -> None:
    kw: dict[str, Any] = {"app_name": "shop", "app_id": "a1", "commit": SHA, "deployment_id": "d1"}
    with pytest.raises(DetectError, match=re.escape("no compose file at 'docker-compose.yml'")):
        service_builds(tmp_path, "docker-compose.yml", **kw)
    write(tmp_path, {"c.yml": "services:\n  db:\n    image: x\n"})
    with pytest.raises(DetectError, match=re.escape("no service in c.yml has a build section")):
        service_builds(tmp_path, "c.yml", **kw)
    write(tmp_path, {"e.yml": "services:\n  web:\n    build: ../../etc\n"})
    with pytest.raises(InvalidSource, match="points outside the repository"):
        service_builds(tmp_path, "e.yml", **kw)


@pytest.mark.docker
async def test_compose_services_build_for_real(
    tmp_path: Path, busybox_image: str, docker_client: DockerClient, image_name: str
) -> None:
    root = write(
        tmp_path,
        {
            "docker-compose.yml": "services:\n  api:\n    build: api\n  web:\n    build:\n      context: web\n",
            "api/Dockerfile": f"FROM {busybox_image}\nRUN echo api > /name\n",
            "web/Dockerfile": f"FROM {busybox_image}\nRUN echo web > /name\n",
        },
    )
    specs = service_builds(root, "docker-compose.yml", app_name=image_name, app_id="a1", commit=SHA, deployment_id="d1")
    builder = DockerBuilder(docker_client)
    try:
        images = {name: (await builder.build(spec)).image for name, spec in specs.items()}
        assert images == {"api": f"{image_name}-api:abcdef012345", "web": f"{image_name}-web:abcdef012345"}
        for name, image in images.items():
            out = subprocess.run(
                [docker_client.path, "run", "--rm", image, "cat", "/name"], capture_output=True, text=True
            )
            assert out.stdout == f"{name}\n"
    finally:
        for spec in specs.values():
            await builder.remove_image(spec.image)
