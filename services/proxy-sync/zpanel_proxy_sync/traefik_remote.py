"""Traefik's dynamic files on a server reached over SSH: the same documents as on ``local``,
written through the server's executor (temporary file, then ``mv``: Traefik never reads half a
document)."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any

from zpanel_proxy_sync import traefik
from zpanel_proxy_sync.routes import AppRoute


def remote_file(directory: str, app: str) -> str:
    return f"{directory.rstrip('/')}/zp-{app}.yml"


@dataclass
class RemoteTraefikBackend:
    executor: Any  # zpanel_deployer.executor.base.Executor: run(argv, check=...), write_file(path, data, mode)
    directory: str
    name: str = "traefik"

    async def snapshot(self, app: str) -> str | None:
        path = remote_file(self.directory, app)
        script = f"if [ -e {shlex.quote(path)} ]; then cat -- {shlex.quote(path)}; else exit 3; fi"
        result = await self.executor.run(["sh", "-c", script], check=False)
        if result.returncode == 3:
            return None
        if not result.ok:
            from zpanel_proxy_sync.errors import ProxyError

            raise ProxyError(f"cannot read {path} on {self.executor.server}: {result.err.strip()}")
        return str(result.out)

    async def apply(self, route: AppRoute) -> None:
        text = traefik.render(traefik.dynamic_config(route))
        await self.executor.write_file(remote_file(self.directory, route.app), text.encode(), 0o644)

    async def restore(self, app: str, snapshot: str | None) -> None:
        if snapshot is None:
            await self.remove(app)
        else:
            await self.executor.write_file(remote_file(self.directory, app), snapshot.encode(), 0o644)

    async def remove(self, app: str) -> None:
        await self.executor.run(["rm", "-f", "--", remote_file(self.directory, app)], check=False)
