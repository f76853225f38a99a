"""Go: go.mod. The main package is the root when it holds one, else the single ``cmd/<name>``."""

from __future__ import annotations

import re
from pathlib import Path

from zpanel_builder.detect.plan import GoPlan
from zpanel_builder.errors import DetectError

_PACKAGE_MAIN = re.compile(r"^package\s+main\b", re.MULTILINE)


def matches(root: Path) -> bool:
    return (root / "go.mod").is_file()


def _has_main(directory: Path) -> bool:
    return any(_PACKAGE_MAIN.search(p.read_text(errors="replace")) for p in sorted(directory.glob("*.go")))


def detect(root: Path) -> GoPlan:
    if _has_main(root):
        package = "."
    else:
        mains = sorted(d.name for d in (root / "cmd").glob("*") if d.is_dir() and _has_main(d))
        if len(mains) != 1:
            found = ", ".join(mains) or "none"
            raise DetectError(
                f"cannot tell which Go main package to build (cmd/: {found}): "
                "put package main at the root, or add a Dockerfile"
            )
        package = f"./cmd/{mains[0]}"
    return GoPlan(has_go_sum=(root / "go.sum").is_file(), package=package)
