"""The Docker Engine API form of a docker command: what a pure command builder attaches to an argv
list (as its ``engine`` attribute) and what the local executor sends over the engine's unix socket
instead of running the CLI (see :mod:`zpanel.remote.engine`). Plain data; nothing here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class ListIds:
    """``docker ps --quiet --no-trunc``: GET /containers/json, the ids one per line."""

    params: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Inspect:
    """``docker inspect --type container``: GET /containers/{name}/json for each, printed as one
    JSON array of those found; a missing one is an error line and exit 1, as the CLI does."""

    names: tuple[str, ...]


@dataclass(frozen=True)
class Each:
    """start / stop / rm of several containers: one request per name, concurrently (as the CLI)."""

    method: Literal["POST", "DELETE"]
    path: str  # with ``{name}``
    names: tuple[str, ...]
    params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Run:
    """``docker run --detach``: create (named) with ``body``, then start; prints the id.
    ``env_file`` is read where the engine runs and becomes the body's ``Env``, as the CLI does."""

    name: str
    body: Mapping[str, Any] = field(hash=False)
    env_file: str | None = None


@dataclass(frozen=True)
class ImageId:
    """``docker image inspect --format {{.Id}}``: GET /images/{ref}/json."""

    ref: str


Op = ListIds | Inspect | Each | Run | ImageId


def env_lines(text: str, environ: Mapping[str, str]) -> list[str]:
    """Docker's ``--env-file`` reading: ``KEY=VALUE`` taken literally, blank lines and ``#``
    comments skipped, leading spaces dropped; a bare ``KEY`` takes this process's value (and is
    left out when unset). Raises ValueError for a name with spaces, as the CLI refuses it."""
    out = []
    for number, raw in enumerate(text.removeprefix("\ufeff").splitlines(), 1):
        line = raw.lstrip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not key or any(c.isspace() for c in key):
            raise ValueError(f"env file line {number}: variable {key!r} contains whitespaces or is empty")
        if sep:
            out.append(f"{key}={value}")
        elif key in environ:
            out.append(f"{key}={environ[key]}")
    return out
