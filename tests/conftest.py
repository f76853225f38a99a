"""Session fixtures shared by every test folder: one real nats-server per session, a per-test
nats-server where a test must kill it, the local busybox base image, Docker detection."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness import images
from tests.harness import nats as natsh

os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
os.environ.setdefault("TESTCONTAINERS_CONNECTION_MODE", "docker_host")


@pytest.fixture(scope="session")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[natsh.NatsServer]:
    """One nats-server for the whole session. Tests isolate themselves by their own ids, never by
    deleting streams. A test that kills the server must use ``own_nats`` instead."""
    server = natsh.single(tmp_path_factory.mktemp("nats-session"))
    yield server
    server.stop()


@pytest.fixture
def own_nats(tmp_path: Path) -> Iterator[natsh.NatsServer]:
    """A nats-server of this test's own, free to be killed and restarted."""
    server = natsh.single(tmp_path / "nats")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def docker_engine() -> None:
    """Fail (in CI) or skip (on a laptop without Docker) when no engine answers."""
    if not images.docker_available():
        if os.environ.get("CI"):
            pytest.fail("no Docker engine answers: .ci/run must install docker.io and start dockerd")
        pytest.skip("no Docker engine answers (start dockerd)")


@pytest.fixture(scope="session")
def busybox_image(docker_engine: None) -> str:
    return images.busybox_image()
