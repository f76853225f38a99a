"""Containers a test starts for itself, through testcontainers' ``DockerContainer``: started from a
local image with a name, labels and at most one port published on 127.0.0.1 (a random host port),
returned at once (no wait strategy: the tests measure readiness themselves), removed by the test.

``start(...)`` starts one; ``with Pool() as pool: pool.start(...)`` removes all it started on exit.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import docker.errors
from testcontainers.core.config import testcontainers_config
from testcontainers.core.container import DockerContainer

# Ryuk, testcontainers' reaper, is an image on Docker Hub and nothing can be pulled here: it stays
# off, and the tests remove their containers themselves (a Pool, or the clean-up of the code under
# test). testcontainers reads this (else TESTCONTAINERS_RYUK_DISABLED) at its first container start.
testcontainers_config.ryuk_disabled = True


@dataclass(frozen=True)
class Running:
    id: str
    name: str
    port: int  # the host port on 127.0.0.1; 0 when none was asked for or the container exited already
    container: DockerContainer = field(repr=False, compare=False)

    def remove(self) -> None:
        """Remove it, running or not; gone already (removed by the code under test) is fine."""
        with contextlib.suppress(docker.errors.NotFound):
            self.container.stop()


def start(
    image: str,
    *,
    name: str,
    labels: dict[str, str],
    command: list[str] | None = None,
    port: int | None = None,
    **options: Any,
) -> Running:
    """``docker run -d`` of ``image`` (``command`` empty or None: the image's own). ``options`` are
    the docker SDK's ``containers.create`` arguments (``mem_limit``, ``restart_policy``...)."""
    container = DockerContainer(image, name=name).with_kwargs(
        labels=labels,
        # The default bridge, as ``docker run``: left out, testcontainers guesses a network from the
        # container the tests run in (for docker-in-docker) and joins the new one to it.
        network="bridge",
        **options,
    )
    if command:
        container.with_command(command)
    if port is not None:
        # with_bind_ports/with_exposed_ports take no host address, so Docker would bind 0.0.0.0;
        # the SDK's (address, None) binds loopback only, on a port the engine picks.
        container.ports[f"{port}/tcp"] = ("127.0.0.1", None)  # type: ignore[assignment]
    try:
        container.start()
        handle = container.get_wrapped_container()
        handle.reload()
    except BaseException:
        with contextlib.suppress(docker.errors.NotFound):
            container.stop()  # created but not started, or started but not inspected
        raise
    bindings = (handle.attrs["NetworkSettings"]["Ports"] or {}).get(f"{port}/tcp") if port is not None else None
    # No idle connection to the engine while the test runs; remove() opens one again.
    container.get_docker_client().client.close()
    return Running(handle.id, name, int(bindings[0]["HostPort"]) if bindings else 0, container)


class Pool:
    """The containers one test starts, all removed when the ``with`` block ends."""

    def __init__(self) -> None:
        self.running: list[Running] = []

    def start(self, image: str, **kwargs: Any) -> Running:
        running = start(image, **kwargs)
        self.running.append(running)
        return running

    def __enter__(self) -> Pool:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for running in self.running:
            running.remove()
