"""Traefik's dynamic files on a server reached over SSH: the same documents as on ``local``,
written through the server's executor in one round trip: into the staging folder, then ``mv``
(Traefik never reads half a document, and sees one event per switch: see ``traefik_file``)."""

from __future__ import annotations

import shlex
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from zpanel_proxy_sync import traefik
from zpanel_proxy_sync.default_cert import self_signed
from zpanel_proxy_sync.errors import ProxyError
from zpanel_proxy_sync.routes import AppRoute
from zpanel_proxy_sync.traefik_file import STAGING

# $1 directory, $2 file name, $3 mode, $4 "new" to keep an existing file; the document on stdin.
# umask 077: the temporary file is never readable by others, not even before the chmod.
WRITE = (
    f'umask 077 && mkdir -p -- "$1/{STAGING}" && if [ "$4" = new ] && [ -e "$1/$2" ]; then exit 0; fi && '
    f't="$1/{STAGING}/.$2.$$.tmp" && cat > "$t" && chmod "$3" "$t" && mv -f -- "$t" "$1/$2"'
)

_with_default_cert: set[tuple[str, str]] = set()
"""(server, directory) pairs known to hold the default certificate: backends are made per event."""


def remote_file(directory: str, app: str) -> str:
    return f"{directory.rstrip('/')}/zp-{app}.yml"


@dataclass
class RemoteTraefikBackend:
    executor: Any  # zpanel.remote.base.Executor: run(argv, input=..., check=...)
    directory: str
    name: str = "traefik"
    ensure_proxy: Callable[[], Awaitable[object]] | None = None
    """Makes sure the server runs a Traefik reading ``directory`` (see ``proxy_boot``); called
    before every write, cheap once done."""

    async def snapshot(self, app: str) -> str | None:
        path = remote_file(self.directory, app)
        script = f"if [ -e {shlex.quote(path)} ]; then cat -- {shlex.quote(path)}; else exit 3; fi"
        result = await self.executor.run(["sh", "-c", script], check=False)
        if result.returncode == 3:
            return None
        if not result.ok:
            raise ProxyError(f"cannot read {path} on {self.executor.server}: {result.err.strip()}")
        return str(result.out)

    async def _write(self, name: str, text: str, mode: int = 0o644, only_new: bool = False) -> None:
        argv = ["sh", "-c", WRITE, "sh", self.directory.rstrip("/"), name, format(mode, "o"), "new" if only_new else ""]
        result = await self.executor.run(argv, input=text.encode(), check=False)
        if not result.ok:
            raise ProxyError(f"cannot write {self.directory}/{name} on {self.executor.server}: {result.err.strip()}")

    async def apply(self, route: AppRoute) -> None:
        if self.ensure_proxy is not None:
            await self.ensure_proxy()
        key = (str(self.executor.server), self.directory)
        if key not in _with_default_cert:
            cert, pem = self_signed()
            await self._write(
                traefik.DEFAULT_CERT_FILE, traefik.render(traefik.default_certificate(cert, pem)), 0o600, True
            )
            _with_default_cert.add(key)
        await self._write(f"zp-{route.app}.yml", traefik.render(traefik.dynamic_config(route)))

    async def restore(self, app: str, snapshot: str | None) -> None:
        if snapshot is None:
            await self.remove(app)
        else:
            await self._write(f"zp-{app}.yml", snapshot)

    async def remove(self, app: str) -> None:
        await self.executor.run(["rm", "-f", "--", remote_file(self.directory, app)], check=False)
