"""What the supervisor runs: one ``ProcSpec`` per process, in start order, and the facts about the
stack that ``stack.json`` publishes. A plan is plain JSON so ``up --detach`` can hand it to a
background supervisor through a file (0600: it holds the admin token)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Probe:
    """One readiness check: ``kind`` is ``tcp`` (target = port), ``http`` (target = URL answering
    2xx) or ``ping`` (target = a core NATS subject a service answers; needs the plan's nats_url)."""

    kind: str
    target: str


@dataclass
class ProcSpec:
    name: str
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    cwd: str | None = None
    probes: list[Probe] = field(default_factory=list)
    gate: bool = False
    """Start the next process only once this one is ready (NATS before the services)."""


@dataclass
class StackInfo:
    api_url: str = ""
    dashboard_url: str = ""
    nats_url: str = ""
    proxy_http_port: int | None = None
    token: str = ""


@dataclass
class Plan:
    home: Path
    procs: list[ProcSpec]
    info: StackInfo = field(default_factory=StackInfo)
    backoff_base_s: float = 0.5
    backoff_cap_s: float = 30.0
    stable_after_s: float = 30.0
    """A process that ran this long before dying starts its backoff from the base again."""
    stop_timeout_s: float = 10.0
    probe_interval_s: float = 0.5
    gate_timeout_s: float = 20.0
    tick_s: float = 0.05

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def stack_file(self) -> Path:
        return self.home / "stack.json"

    @property
    def plan_file(self) -> Path:
        return self.home / "supervisor.json"

    def to_json(self) -> str:
        data = asdict(self)
        data["home"] = str(self.home)
        return json.dumps(data, indent=2)

    @classmethod
    def from_json(cls, text: str) -> Plan:
        data: dict[str, Any] = json.loads(text)
        procs = [ProcSpec(**{**p, "probes": [Probe(**q) for q in p.get("probes", [])]}) for p in data.pop("procs")]
        info = StackInfo(**data.pop("info", {}))
        return cls(home=Path(data.pop("home")), procs=procs, info=info, **data)

    def save(self) -> Path:
        self.home.mkdir(parents=True, exist_ok=True)
        write_private(self.plan_file, self.to_json())
        return self.plan_file


def write_private(path: Path, text: str) -> None:
    """Atomic write readable by the owner only (tokens live in these files)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
