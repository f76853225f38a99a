"""Making sure a server reached over SSH runs its Traefik before proxy-sync writes a route there
(as Kamal's ``proxy boot``): kept when the running ``zpanel-proxy`` carries the wanted
configuration label, else (re-)created. Checked once per process per server and configuration.

Safe when two proxy-sync processes race: both want the same container (same label), and the one
whose ``docker run`` loses on the name simply waits for the winner's proxy to listen.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

from zpanel_proxy_sync.bootstrap import ProxySpec, Running, inspect_argv, missing_container, name_conflict, no_docker
from zpanel_proxy_sync.errors import ProxyBootError, ProxyError

log = structlog.get_logger("zpanel.proxy_sync")

PortOpen = Callable[[str, int], Awaitable[bool]]
"""Whether something accepts TCP connections at host:port, seen from where proxy-sync runs."""


async def tcp_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


class ProxyBoot:
    def __init__(
        self,
        port_open: PortOpen = tcp_open,
        ready_within: float = 30.0,
        poll: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.port_open = port_open
        self.ready_within = ready_within
        self.poll = poll
        self.clock = clock
        self._ready: set[tuple[str, str]] = set()
        self._locks: dict[str, asyncio.Lock] = {}

    async def ensure(self, executor: Any, host: str, spec: ProxySpec) -> str:
        """``executor`` runs commands on the server (zpanel_deployer's Executor); ``host`` is where
        visitors reach it. Returns what was done: ``cached``, ``kept`` or ``started``."""
        server = str(executor.server)
        key = (server, spec.config_hash())
        if key in self._ready:
            return "cached"
        async with self._locks.setdefault(server, asyncio.Lock()):
            if key in self._ready:
                return "cached"
            done = await self._ensure(executor, server, host, spec)
            self._ready.add(key)
        log.info("proxy.ensured", server=server, container=spec.name, outcome=done)
        return done

    async def _ensure(self, executor: Any, server: str, host: str, spec: ProxySpec) -> str:
        found = await self._inspect(executor, server, spec)
        if found is not None and found.matches(spec):
            return "kept"
        if found is not None and found.status == "created" and found.config == spec.config_hash():
            # a racing proxy-sync is between `docker create` and `start`: removing it would fail its start
            await self._wait_listening(executor, server, host, spec)
            return "started"
        await self._run(executor, server, spec, ["mkdir", "-p", "--", spec.proxy_dir], "create the proxy directory")
        await executor.write_file(spec.static_file, spec.static_text().encode(), 0o644)
        if spec.acme_file:  # kept as it is when it exists: it holds the account and certificates
            await self._run(executor, server, spec, ["touch", "--", spec.acme_file], "create the certificate store")
            await self._run(
                executor, server, spec, ["chmod", "600", "--", spec.acme_file], "protect the certificate store"
            )
        if found is not None:  # another configuration, or stopped: replaced
            await self._run(executor, server, spec, ["docker", "rm", "--force", spec.name], "remove the old proxy")
        owner = False
        if not await self._started_by_another(executor, server, host, spec):
            # long enough for a first pull of the image
            result = await executor.run(spec.run_argv(), check=False, timeout=600)
            if not result.ok and not name_conflict(result.err):
                raise self._failure(server, spec, result.returncode, result.err, f"start {spec.name}")
            owner = result.ok
        await self._wait_listening(executor, server, host, spec, owner=owner)
        return "started"

    async def _inspect(self, executor: Any, server: str, spec: ProxySpec) -> Running | None:
        result = await executor.run(inspect_argv(spec.name), check=False, timeout=60)
        if result.ok:
            return Running.parse(result.out)
        if missing_container(result.err):
            return None
        raise self._failure(server, spec, result.returncode, result.err, "inspect the proxy")

    async def _started_by_another(self, executor: Any, server: str, host: str, spec: ProxySpec) -> bool:
        """A port already answers: a racing proxy-sync's proxy (fine), or something else (the
        clear error: Traefik would only crash-loop on it)."""
        for port in spec.ports():
            if await self.port_open(host, port):
                now = await self._inspect(executor, server, spec)
                if now is not None and now.config == spec.config_hash():
                    return True
                raise ProxyBootError(
                    f"server {server}: port {port} is taken by something other than Zpanel's proxy, so "
                    f"{spec.name} cannot listen there. Stop what listens on {port}, or add the server with "
                    f"--no-manage-proxy and run your own Traefik reading {spec.proxy_dir}"
                )
        return False

    async def _run(self, executor: Any, server: str, spec: ProxySpec, argv: list[str], what: str) -> None:
        result = await executor.run(argv, check=False, timeout=60)
        if not result.ok:
            raise self._failure(server, spec, result.returncode, result.err, what)

    async def _wait_listening(
        self, executor: Any, server: str, host: str, spec: ProxySpec, *, owner: bool = False
    ) -> None:
        """Until every port answers. A proxy that died or never listens is an error carrying its
        log; only the process whose ``docker run`` made it removes it (a racing process that lost
        the name must not pull it from under the one that started it)."""
        deadline = self.clock() + self.ready_within
        while True:
            if all([await self.port_open(host, p) for p in spec.ports()]):
                return
            found = await self._inspect(executor, server, spec)
            # a racing `docker run` reserves the name before its container can be inspected: for the
            # process that lost the name, "no such container" means "not yet", until the deadline
            gone = found is None and owner
            if (
                gone
                or (found is not None and found.status in ("exited", "restarting", "dead"))
                or (self.clock() > deadline)
            ):
                logs = await executor.run(["docker", "logs", "--tail", "5", spec.name], check=False, timeout=30)
                tail = " ".join((logs.out + logs.err).split())[-400:] or "no output"
                ports = " and ".join(str(p) for p in spec.ports())
                hint = (
                    "a port is taken: stop what listens there"
                    if "address already in use" in tail
                    else f"see `docker logs {spec.name}` there"
                )
                if owner:  # a crash loop helps nobody; the error carries its log
                    await executor.run(["docker", "rm", "--force", spec.name], check=False, timeout=60)
                raise ProxyBootError(
                    f"server {server}: {spec.name} ({spec.image}) does not listen on {host}:{ports} "
                    f"({found.status if found else 'gone'}); {hint}. Its log ends: {tail}"
                )
            await asyncio.sleep(self.poll)

    @staticmethod
    def _failure(server: str, spec: ProxySpec, returncode: int | None, stderr: str, what: str) -> ProxyError:
        detail = " ".join(stderr.split())[-300:] or f"exit {returncode}"
        if no_docker(returncode, stderr):
            return ProxyBootError(
                f"server {server}: cannot {what}: docker is not installed there (or not on the SSH user's "
                "PATH). Install Docker on it (Debian: apt-get install docker.io), or add the server with "
                f"--no-manage-proxy and run your own Traefik reading {spec.proxy_dir}"
            )
        if "unable to find image" in stderr.lower() or "pull access denied" in stderr.lower():
            return ProxyBootError(
                f"server {server}: cannot {what}: the image {spec.image} is not there and cannot be pulled "
                f"({detail}); set ZPANEL_PROXY_IMAGE to an image the server can pull, or `docker load` it there"
            )
        if "cannot connect to the docker daemon" in stderr.lower() or "permission denied" in stderr.lower():
            return ProxyBootError(
                f"server {server}: cannot {what}: the Docker engine does not answer the SSH user ({detail}); "
                "start dockerd there or give the user access to it"
            )
        return ProxyError(f"server {server}: cannot {what}: {detail}")
