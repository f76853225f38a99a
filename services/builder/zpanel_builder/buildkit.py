"""Find a docker client that builds with BuildKit: detect, don't assume.

Clients from 18.09 to 22.x have BuildKit built in (``DOCKER_BUILDKIT=1``). From 23.0 on, ``docker
build`` with BuildKit goes through the buildx plugin, and a client without it fails every build
(Debian's /usr/bin/docker is 20.10; a newer static client elsewhere on PATH may lack buildx).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass

from zpanel_builder import process
from zpanel_builder.errors import BuildkitUnavailable

FALLBACKS = ("/usr/bin/docker", "/usr/local/bin/docker", "/bin/docker")


@dataclass(frozen=True)
class DockerClient:
    path: str
    version: str
    buildx: bool

    def describe(self) -> str:
        how = "buildx plugin" if self.buildx else "BuildKit built in"
        return f"{self.path} {self.version} ({how})"


def parse_version(text: str) -> tuple[int, int] | None:
    m = re.match(r"^\s*v?(\d+)\.(\d+)", text)
    return (int(m.group(1)), int(m.group(2))) if m else None


def buildkit_capable(version: str, has_buildx: bool) -> bool:
    if has_buildx:
        return True
    parsed = parse_version(version)
    return parsed is not None and (18, 9) <= parsed < (23, 0)


def candidates(env_value: str | None = None) -> list[str]:
    """ZPANEL_DOCKER first, then PATH's docker, then the usual places; each real file once."""
    found: list[str] = []
    seen: set[str] = set()
    for path in [env_value, shutil.which("docker"), *FALLBACKS]:
        if path and os.path.isfile(path) and os.access(path, os.X_OK):
            real = os.path.realpath(path)
            if real not in seen:
                seen.add(real)
                found.append(path)
    return found


async def probe(path: str) -> DockerClient | None:
    version = await process.run([path, "version", "--format", "{{.Client.Version}}"], timeout=20)
    if version.returncode != 0 and not version.tail:
        return None
    buildx = await process.run([path, "buildx", "version"], timeout=20)
    text = version.tail[0] if version.tail else ""
    return DockerClient(path=path, version=text.strip(), buildx=buildx.returncode == 0)


async def find_client(paths: Sequence[str] | None = None) -> tuple[DockerClient, list[str]]:
    """The first BuildKit-capable client, and notes on those skipped (for the log).
    Raises :class:`BuildkitUnavailable` saying how to get one."""
    paths = list(paths) if paths is not None else candidates(os.environ.get("ZPANEL_DOCKER"))
    notes: list[str] = []
    for path in paths:
        client = await probe(path)
        if client is None:
            notes.append(f"{path}: does not run")
        elif buildkit_capable(client.version, client.buildx):
            return client, notes
        else:
            notes.append(f"{path} {client.version}: no buildx plugin, so it cannot build with BuildKit; skipped")
    raise BuildkitUnavailable(
        "no docker client here can build with BuildKit ("
        + ("; ".join(notes) or "none found")
        + "): install Debian's docker.io (its 20.10 client has BuildKit built in) or the docker-buildx plugin, "
        "or point ZPANEL_DOCKER at a client that has it"
    )
