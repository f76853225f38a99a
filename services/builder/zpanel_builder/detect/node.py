"""Node.js: package.json; the package manager is chosen by lockfile."""

from __future__ import annotations

import json
from pathlib import Path

from zpanel_builder.detect.plan import NodePlan
from zpanel_builder.errors import DetectError

# (lockfile, manager, install command); the first lockfile present wins.
_MANAGERS = (
    ("pnpm-lock.yaml", "pnpm", "corepack enable && pnpm install --frozen-lockfile"),
    ("yarn.lock", "yarn", "yarn install --frozen-lockfile"),
    ("package-lock.json", "npm", "npm ci"),
    ("npm-shrinkwrap.json", "npm", "npm ci"),
)
_CONFIG_FILES = (".npmrc", ".yarnrc", "pnpm-workspace.yaml")
_ENTRY_FILES = ("server.js", "index.js", "app.js", "main.js")


def matches(root: Path) -> bool:
    return (root / "package.json").is_file()


def detect(root: Path) -> NodePlan:
    try:
        pkg = json.loads((root / "package.json").read_text())
    except (OSError, ValueError) as exc:
        raise DetectError(f"package.json is not valid JSON ({exc}): fix it or add a Dockerfile") from exc
    if not isinstance(pkg, dict):
        raise DetectError("package.json must hold a JSON object: fix it or add a Dockerfile")
    raw_scripts = pkg.get("scripts")
    scripts: dict[str, object] = raw_scripts if isinstance(raw_scripts, dict) else {}
    manager, lockfile, install = "npm", None, "npm install"
    for name, pm, cmd in _MANAGERS:
        if (root / name).is_file():
            manager, lockfile, install = pm, name, cmd
            break
    files = ["package.json", *([lockfile] if lockfile else []), *(f for f in _CONFIG_FILES if (root / f).is_file())]
    start: str | None = None
    if "start" in scripts:
        start = f"{manager} start"
    elif isinstance(pkg.get("main"), str) and pkg["main"]:
        start = f"node {pkg['main']}"
    else:
        start = next((f"node {f}" for f in _ENTRY_FILES if (root / f).is_file()), None)
    return NodePlan(
        package_manager=manager,
        install_files=tuple(files),
        install=install,
        build=f"{manager} run build" if "build" in scripts else None,
        start=start,
    )
