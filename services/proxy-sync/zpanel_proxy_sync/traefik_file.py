"""Writing Traefik's dynamic files atomically: the whole document goes to a temporary file in the
same directory, is flushed to disk, then renamed over the app's file. Traefik (watching the
directory, reading only ``*.yml``/``*.yaml``/``*.toml``) never sees a half-written document; the
temporary name ends in ``.tmp`` so it is never read.

Local only: for a remote server the same bytes go through the SSH runner (write, then ``mv``).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from zpanel_proxy_sync import traefik
from zpanel_proxy_sync.errors import ProxyError
from zpanel_proxy_sync.routes import AppRoute


def app_file(directory: Path, app: str) -> Path:
    return directory / f"zp-{app}.yml"


def write_atomic(path: Path, text: str) -> None:
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise ProxyError(f"cannot write Traefik's configuration {path}: {exc.strerror or exc}") from exc


@dataclass
class TraefikFileBackend:
    """One ``zp-<app>.yml`` per application in Traefik's watched directory."""

    directory: Path
    name: str = "traefik"

    async def snapshot(self, app: str) -> str | None:
        path = app_file(self.directory, app)
        try:
            return await asyncio.to_thread(path.read_text)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ProxyError(f"cannot read Traefik's configuration {path}: {exc.strerror or exc}") from exc

    async def apply(self, route: AppRoute) -> None:
        text = traefik.render(traefik.dynamic_config(route))
        await asyncio.to_thread(write_atomic, app_file(self.directory, route.app), text)

    async def restore(self, app: str, snapshot: str | None) -> None:
        if snapshot is None:
            await self.remove(app)
        else:
            await asyncio.to_thread(write_atomic, app_file(self.directory, app), snapshot)

    async def remove(self, app: str) -> None:
        app_file(self.directory, app).unlink(missing_ok=True)
