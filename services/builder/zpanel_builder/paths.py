"""Paths a user names (Dockerfile, context, compose file) must stay inside the checkout: a
symlink or ``..`` must not let a repository make the builder read a file of the build machine."""

from __future__ import annotations

from pathlib import Path

from zpanel_builder.errors import InvalidSource


def inside(root: Path, relative: str, what: str) -> Path:
    if not relative or Path(relative).is_absolute():
        raise InvalidSource(f"the {what} path {relative!r} must be relative to the repository root")
    base = root.resolve()
    path = (base / relative).resolve()
    if path != base and base not in path.parents:
        raise InvalidSource(f"the {what} path {relative!r} points outside the repository")
    return path
