"""Writing Traefik's dynamic files atomically: the whole document goes to a temporary file in a
staging folder inside the watched directory, is flushed to disk, then renamed over the app's file.
Traefik never sees a half-written document.

Why a staging folder: Traefik's watcher (inotify, not recursive) reloads the whole directory on
every event in it. A temporary file beside the app's file costs a useless reload on its creation,
and the reload of the rename then waits out ``providersThrottleDuration``. Renamed in from a
subfolder, a switch is one event and one reload. (Traefik does read subfolders when it reloads;
it skips the ``.tmp`` names there.)

Local only: for a remote server the same bytes go through the SSH runner (``traefik_remote``).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from zpanel_proxy_sync import traefik
from zpanel_proxy_sync.default_cert import self_signed
from zpanel_proxy_sync.errors import ProxyError
from zpanel_proxy_sync.routes import AppRoute

STAGING = ".zp-staging"


def app_file(directory: Path, app: str) -> Path:
    return directory / f"zp-{app}.yml"


def write_atomic(path: Path, text: str, mode: int = 0o644) -> None:
    try:
        staging = path.parent / STAGING
        staging.mkdir(mode=0o700, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=staging, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, mode)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise ProxyError(f"cannot write Traefik's configuration {path}: {exc.strerror or exc}") from exc


def ensure_default_certificate(directory: Path) -> bool:
    """Write the default-certificate document unless it is there; True when written."""
    path = directory / traefik.DEFAULT_CERT_FILE
    if path.exists():
        return False
    cert, key = self_signed()
    write_atomic(path, traefik.render(traefik.default_certificate(cert, key)), mode=0o600)
    return True


@dataclass
class TraefikFileBackend:
    """One ``zp-<app>.yml`` per application in Traefik's watched directory."""

    directory: Path
    name: str = "traefik"
    _has_default_cert: bool = False

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
        await self._default_certificate()
        await asyncio.to_thread(write_atomic, app_file(self.directory, route.app), text)

    async def restore(self, app: str, snapshot: str | None) -> None:
        if snapshot is None:
            await self.remove(app)
        else:
            await asyncio.to_thread(write_atomic, app_file(self.directory, app), snapshot)

    async def remove(self, app: str) -> None:
        app_file(self.directory, app).unlink(missing_ok=True)

    async def _default_certificate(self) -> None:
        # once per process: afterwards a switch costs no extra stat
        if not self._has_default_cert:
            await asyncio.to_thread(ensure_default_certificate, self.directory)
            self._has_default_cert = True
