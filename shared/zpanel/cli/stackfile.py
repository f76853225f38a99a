"""``$ZPANEL_HOME/stack.json``: how CLI commands find the running stack, and what ``status``
shows. The supervisor rewrites it (atomically, 0600: it holds the admin token) on every change."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from zpanel.cli.errors import CliError
from zpanel.cli.plan import write_private
from zpanel.cli.procs import same_process

STATUS_KEYS = ("api_url", "dashboard_url", "nats_url", "proxy_http_port", "token")
SERVICE_KEYS = ("name", "pid", "state", "restarts")


def home() -> Path:
    return Path(os.environ.get("ZPANEL_HOME") or ".zpanel").resolve()


def path(home_dir: Path | None = None) -> Path:
    return (home_dir or home()) / "stack.json"


def read(home_dir: Path | None = None) -> dict[str, Any] | None:
    p = path(home_dir)
    try:
        return dict(json.loads(p.read_text()))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise CliError(f"cannot read {p}: {exc}; remove it if no stack is running") from exc


def write(home_dir: Path, doc: dict[str, Any]) -> None:
    home_dir.mkdir(parents=True, exist_ok=True)
    write_private(path(home_dir), json.dumps(doc, indent=2) + "\n")


def supervisor_alive(doc: dict[str, Any] | None) -> bool:
    if not doc:
        return False
    return same_process(doc.get("supervisor_pid"), doc.get("supervisor_ticks"))


def status_shape(doc: dict[str, Any]) -> dict[str, Any]:
    """Exactly CONTRACT §3's ``status`` / ``up --detach`` shape."""
    out = {k: doc.get(k) for k in STATUS_KEYS}
    out["services"] = [{k: s.get(k) for k in SERVICE_KEYS} for s in doc.get("services", [])]
    return out
