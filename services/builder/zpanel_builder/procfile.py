"""Procfile support (buildpack compatibility): the ``web:`` line is the start command."""

from __future__ import annotations

import re
from pathlib import Path

_LINE = re.compile(r"^([A-Za-z0-9_-]+)\s*:\s*(.+?)\s*$")


def parse(text: str) -> dict[str, str]:
    """Process types to commands; comments and blank lines are skipped, the last duplicate wins."""
    processes: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = _LINE.match(line.strip())
        if m:
            processes[m.group(1)] = m.group(2)
    return processes


def web_command(root: Path) -> str | None:
    path = root / "Procfile"
    if not path.is_file():
        return None
    return parse(path.read_text(errors="replace")).get("web")
