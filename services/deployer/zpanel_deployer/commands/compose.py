"""The per-deployment Compose document, written on the server beside the deployment's env file
(``<root>/<app>/<deployment>/compose.yaml``), so an operator can see and reproduce what runs:
``docker compose -f compose.yaml up -d`` starts the same containers the deployer started with
``docker run`` (same names, labels, env file, ports, limits, restart policy)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from zpanel.lazy import lazy_module
from zpanel_deployer.commands.docker import ContainerSpec

if TYPE_CHECKING:
    import yaml
else:
    yaml = lazy_module("yaml")  # loaded when the first compose file is written


def _is_named_volume(volume: str) -> bool:
    source = volume.split(":", 1)[0]
    return not source.startswith(("/", ".", "~"))


def service(spec: ContainerSpec) -> dict[str, Any]:
    svc: dict[str, Any] = {
        "image": spec.image,
        "container_name": spec.name,
        "restart": spec.restart,
    }
    if spec.command is not None:
        svc["command"] = list(spec.command)
    if spec.env_file:
        svc["env_file"] = [spec.env_file]
    if spec.labels:
        svc["labels"] = dict(spec.labels)
    if spec.publish:
        svc["ports"] = [p.arg() for p in spec.publish]
    if spec.network:
        svc["networks"] = {spec.network: {"aliases": list(spec.aliases)} if spec.aliases else None}
    if spec.volumes:
        svc["volumes"] = list(spec.volumes)
    if spec.limits.memory:
        svc["mem_limit"] = spec.limits.memory
    if spec.limits.cpus is not None:
        svc["cpus"] = spec.limits.cpus
    if spec.limits.pids is not None:
        svc["pids_limit"] = spec.limits.pids
    svc["logging"] = {
        "driver": "json-file",
        "options": {"max-size": spec.log_max_size, "max-file": str(spec.log_max_file)},
    }
    return svc


def document(project: str, specs: Sequence[ContainerSpec]) -> dict[str, Any]:
    """One service per replica (each has its own fixed container name, which Compose cannot scale)."""
    doc: dict[str, Any] = {"name": project, "services": {s.name: service(s) for s in specs}}
    networks = sorted({s.network for s in specs if s.network})
    if networks:
        # the apps' network outlives any one deployment: it is shared with the proxy
        doc["networks"] = {n: {"external": True} for n in networks}
    volumes = sorted({v.split(":", 1)[0] for s in specs for v in s.volumes if _is_named_volume(v)})
    if volumes:
        # keep the exact name `docker run` used instead of Compose's project-prefixed one
        doc["volumes"] = {v: {"name": v} for v in volumes}
    return doc


def render(doc: dict[str, Any]) -> str:
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=False)


def env_file(env: dict[str, str]) -> str:
    """Docker's env-file format: ``KEY=VALUE`` per line, taken literally (no quotes, no expansion).
    A value with a newline cannot be expressed there, so it is refused rather than cut."""
    lines = []
    for key, value in env.items():
        if "\n" in value or "\r" in value:
            raise ValueError(f"environment variable {key} holds a newline, which Docker env files cannot carry")
        lines.append(f"{key}={value}")
    return "".join(line + "\n" for line in lines)
