"""Run a benchmark script as users do, with tiny parameters, and read the figures it printed."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def run_bench(name: str, *args: str, results: Path, timeout: float = 120) -> dict[str, Any]:
    """``bench/<name>/run.py ARGS --json``: exit 0 (targets met) or 1 (missed) with JSON on stdout."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / name / "run.py"), *args, "--json", "--results", str(results)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )
    assert done.returncode in (0, 1), done.stderr[-3000:]
    doc: dict[str, Any] = json.loads(done.stdout)
    saved = list(results.glob("*.json"))
    assert len(saved) == 1 and json.loads(saved[0].read_text()) == doc
    return doc


def figure(value: Any) -> bool:
    """A well-formed figure: a finite, non-negative number."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value >= 0
