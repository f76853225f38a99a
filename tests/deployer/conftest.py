"""Fixtures of the deployer tests: test images and a root for the apps' files. The SSH executor
(``remote``, ``ssh_target``, ``ssh_pool``) and the container cleanup (``owned``) are the remote
layer's fixtures (tests/remote/conftest.py), imported here so pytest offers them to these tests.

The session sshd fixture lives in tests/conftest.py (the e2e tests use it too).
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.remote.conftest import docker_out, owned, remote, ssh_pool, ssh_target

__all__ = ["owned", "remote", "ssh_pool", "ssh_target"]  # fixtures: pytest finds them by name


@dataclass(frozen=True)
class Images:
    repo: str
    v1: str  # serves "v1\n" on :8080
    v2: str  # serves "v2\n"
    broken: str  # exits at once


@pytest.fixture(scope="session")
def images(busybox_image: str) -> Iterator[Images]:
    repo = f"zpanel-test/deployer-{uuid.uuid4().hex[:10]}"
    bodies = {
        "v1": "RUN echo v1 > /www/index.html",
        "v2": "RUN echo v2 > /www/index.html",
        "broken": 'CMD ["sh", "-c", "echo starting; echo the app crashed >&2; exit 3"]',
    }
    for tag, line in bodies.items():
        subprocess.run(
            ["docker", "build", "-q", "-t", f"{repo}:{tag}", "-"],
            input=f"FROM {busybox_image}\n{line}\n",
            text=True,
            check=True,
            capture_output=True,
            env={**os.environ, "DOCKER_BUILDKIT": "0"},
        )
    yield Images(repo, f"{repo}:v1", f"{repo}:v2", f"{repo}:broken")
    refs = docker_out("image", "ls", "--format", "{{.Repository}}:{{.Tag}}", repo).split()
    if refs:
        docker_out("image", "rm", "-f", *refs)


@pytest.fixture
def apps_root(tmp_path: Path) -> str:
    return str(tmp_path / "apps")
