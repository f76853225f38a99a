"""Static sites: a built dist/, a public/ folder or an index.html at the root."""

from __future__ import annotations

from pathlib import Path

from zpanel_builder.detect.plan import StaticPlan
from zpanel_builder.errors import DetectError

_ROOTS = ("dist", "public", ".")


def matches(root: Path) -> bool:
    return any((root / r / "index.html").is_file() for r in _ROOTS)


def detect(root: Path) -> StaticPlan:
    for r in _ROOTS:
        if (root / r / "index.html").is_file():
            return StaticPlan(root=r)
    for r in _ROOTS[:2]:
        if (root / r).is_dir():
            return StaticPlan(root=r)
    raise DetectError("no index.html, dist/ or public/ found to serve as a static site")
