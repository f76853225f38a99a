"""Fixtures of the builder tests: a BuildKit-capable docker client and image cleanup."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator

import pytest

from zpanel_builder.buildkit import DockerClient, find_client


@pytest.fixture(scope="session")
async def docker_client(docker_engine: None) -> DockerClient:
    client, _notes = await find_client()
    return client


@pytest.fixture
def image_name(docker_client: DockerClient) -> Iterator[str]:
    """A unique image repository for this test; every tag of it is removed afterwards."""
    name = f"zpanel-test-build-{uuid.uuid4().hex[:10]}"
    yield name
    ids = subprocess.run(
        [docker_client.path, "image", "ls", "--quiet", name], capture_output=True, text=True
    ).stdout.split()
    for tag in subprocess.run(
        [docker_client.path, "image", "ls", "--format", "{{.Repository}}:{{.Tag}}", name],
        capture_output=True,
        text=True,
    ).stdout.split():
        subprocess.run([docker_client.path, "image", "rm", "--force", tag], capture_output=True)
    for image_id in set(ids):
        subprocess.run([docker_client.path, "image", "rm", "--force", image_id], capture_output=True)
