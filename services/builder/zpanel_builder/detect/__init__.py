"""Auto-detection, like Nixpacks/Railpack: look at a source tree and say how to build it."""

from __future__ import annotations

from pathlib import Path

from zpanel_builder.detect import go, node, python, static
from zpanel_builder.detect.plan import GoPlan, NodePlan, Plan, PythonPlan, StaticPlan
from zpanel_builder.errors import DetectError

__all__ = ["GoPlan", "NodePlan", "Plan", "PythonPlan", "StaticPlan", "detect"]

# Most specific first: a Go or Node project often also holds an index.html or a public/ folder.
_LANGUAGES = (go, node, python, static)


def detect(root: Path) -> Plan:
    for language in _LANGUAGES:
        if language.matches(root):
            return language.detect(root)
    raise DetectError(
        "could not detect how to build this repository (looked for go.mod, package.json, "
        "requirements.txt, pyproject.toml, Pipfile, main.py, index.html, public/, dist/): "
        "add a Dockerfile or choose another build type"
    )
