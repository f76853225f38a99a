"""From a server record to the executor that reaches it, one per server, plus the per-server
concurrency limit. The caller opens the sealed private key and hands the plain text in."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass

from zpanel.models import Server
from zpanel.remote.base import Executor
from zpanel.remote.local import LocalExecutor
from zpanel.remote.retry import Backoff
from zpanel.remote.ssh import SshExecutor, SshPool, SshTarget

DOCKER_VERSION = ("docker", "version", "--format", "{{.Server.Version}}")


def target_for(server: Server, private_key: str, connect_timeout: float = 10.0) -> SshTarget:
    return SshTarget(
        server=server.name,
        host=server.host,
        port=server.port,
        user=server.user,
        private_key=private_key,
        known_hosts=server.known_hosts,
        connect_timeout=connect_timeout,
    )


@dataclass(frozen=True)
class Check:
    server: str
    docker_version: str


class Servers:
    """Executors by server name. A re-registered server (new host, key or pin) gets a new one."""

    def __init__(self, backoff: Backoff | None = None, connect_timeout: float = 10.0) -> None:
        self.pool = SshPool(backoff)
        self.connect_timeout = connect_timeout
        self._executors: dict[str, tuple[str, Executor]] = {}
        self._limits: dict[str, tuple[int, asyncio.Semaphore]] = {}

    def executor(self, server: Server, private_key: str | None = None) -> Executor:
        identity = self._identity(server, private_key)
        held = self._executors.get(server.name)
        if held and held[0] == identity:
            return held[1]
        ex: Executor
        if server.kind == "local":
            ex = LocalExecutor(server.name)
        else:
            if not private_key:
                raise ValueError(f"server {server.name!r} is reached over SSH and needs its private key")
            ex = SshExecutor(target_for(server, private_key, self.connect_timeout), self.pool)
        self._executors[server.name] = (identity, ex)
        return ex

    def limit(self, server: Server) -> asyncio.Semaphore:
        """At most ``server.max_concurrency`` deployments at once on this server."""
        held = self._limits.get(server.name)
        if held is None or held[0] != server.max_concurrency:
            held = (server.max_concurrency, asyncio.Semaphore(server.max_concurrency))
            self._limits[server.name] = held
        return held[1]

    async def check(self, server: Server, private_key: str | None = None) -> Check:
        """SSH (when remote) and Docker reachability, for `zpanel server check`."""
        result = await self.executor(server, private_key).run(DOCKER_VERSION, timeout=30)
        return Check(server.name, result.out.strip())

    async def close(self) -> None:
        await self.pool.close()

    @staticmethod
    def _identity(server: Server, private_key: str | None) -> str:
        digest = hashlib.sha256((private_key or "").encode()).hexdigest()
        return "|".join([server.kind, server.host, str(server.port), server.user, server.known_hosts, digest])
