"""Read BuildKit's plain progress output: find the line that says why a build failed."""

from __future__ import annotations

import re
from collections.abc import Sequence

_STEP = re.compile(r"^#(\d+) (\[.+\])?\s*(.*)$")
_STEP_ERROR = re.compile(r"^#(\d+) ERROR: (.*)$")
_PARSE_LINE = re.compile(r"dockerfile parse error (?:on )?line (\d+)", re.IGNORECASE)
_FINAL = ("error:", "failed to solve", "failed to compute", "executor failed", "ERROR:")


def _dockerfile_line(dockerfile_text: str, number: int) -> str:
    lines = dockerfile_text.splitlines()
    return lines[number - 1].strip() if 0 < number <= len(lines) else ""


def _step_header(lines: Sequence[str], step: str) -> str:
    for line in lines:
        m = _STEP.match(line)
        if m and m.group(1) == step and m.group(2):
            return f"{m.group(2)} {m.group(3)}".strip()
    return ""


def failure(lines: Sequence[str], dockerfile_text: str = "") -> tuple[str, str]:
    """(reason, failing line) from a failed build's output. The reason names the Dockerfile step
    (``[3/4] RUN make``) or line (``line 2: FOO bar``) and BuildKit's error."""
    for line in reversed(lines):
        m = _STEP_ERROR.match(line)
        if m:
            step = _step_header(lines, m.group(1))
            located = f"step {step} failed: " if step else ""
            return f"build {located}{m.group(2)}", step or line
    for line in reversed(lines):
        m = _PARSE_LINE.search(line)
        if m:
            bad = _dockerfile_line(dockerfile_text, int(m.group(1)))
            suffix = f' (Dockerfile line {m.group(1)}: "{bad}")' if bad else ""
            return f"{line.strip()}{suffix}", bad or line.strip()
    for line in reversed(lines):
        if line.strip().startswith(_FINAL):
            return line.strip(), line.strip()
    last = next((ln.strip() for ln in reversed(lines) if ln.strip()), "")
    return (f"docker build failed: {last}" if last else "docker build failed without output"), last
