"""Small real child processes for supervisor tests, and a poll-until helper."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from zpanel.cli.plan import Plan, Probe, ProcSpec, StackInfo

PY = sys.executable

SLEEPER = "import time; time.sleep(600)"

CRASH_N_TIMES = (
    "import pathlib, sys, time\n"
    "p = pathlib.Path(sys.argv[1]); n = int(p.read_text()) if p.exists() else 0\n"
    "p.write_text(str(n + 1))\n"
    "sys.exit(3) if n < int(sys.argv[2]) else time.sleep(600)\n"
)

SLOW_HTTP = (
    "import http.server, sys, time\n"
    "time.sleep(0.4)\n"
    "http.server.ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), http.server.SimpleHTTPRequestHandler).serve_forever()\n"
)

PING_RESPONDER = (
    "import asyncio, sys, nats\n"
    "async def main():\n"
    "    await asyncio.sleep(0.3)\n"
    "    nc = await nats.connect(sys.argv[1])\n"
    "    async def pong(m): await m.respond(b'pong')\n"
    "    await nc.subscribe(sys.argv[2], cb=pong)\n"
    "    await asyncio.Event().wait()\n"
    "asyncio.run(main())\n"
)


def py(name: str, code: str, *args: str, probes: list[Probe] | None = None, gate: bool = False) -> ProcSpec:
    return ProcSpec(name, [PY, "-c", code, *args], probes=probes or [], gate=gate)


def plan(home: Path, procs: list[ProcSpec], nats_url: str = "", **kw: Any) -> Plan:
    info = StackInfo(
        api_url="http://127.0.0.1:1",
        dashboard_url="http://127.0.0.1:1/",
        nats_url=nats_url,
        proxy_http_port=8081,
        token="zpt_t",
    )
    defaults: dict[str, Any] = {
        "backoff_base_s": 0.05,
        "backoff_cap_s": 1.0,
        "stable_after_s": 60,
        "probe_interval_s": 0.05,
        "stop_timeout_s": 5,
    }
    defaults.update(kw)
    return Plan(home=home, procs=procs, info=info, **defaults)


def until(what: str, check: Callable[[], Any], timeout: float = 20) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def stack(home: Path) -> dict[str, Any]:
    try:
        return dict(json.loads((home / "stack.json").read_text()))
    except (FileNotFoundError, ValueError):
        return {}


def service(home: Path, name: str) -> dict[str, Any]:
    return next((s for s in stack(home).get("services", []) if s["name"] == name), {})
