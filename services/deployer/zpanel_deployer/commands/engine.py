"""The Docker Engine API form of the hot docker commands, built by pure functions.

Each argv list of :mod:`~zpanel_deployer.commands.docker` that the deployer runs on every
deployment (ps, inspect, run, start, stop, rm, image inspect) also carries the requests that do
the same through the engine's API (``Command.engine``, an op of :mod:`zpanel.remote.engine_ops`).
An executor next to the engine (the ``local`` server) sends them over its unix socket: a few
milliseconds each instead of a CLI process (30–100 ms on a busy machine). Anything else, and every
SSH server, runs the argv. Here: the ops that need more than their arguments (filters, the body
of ``docker run``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from zpanel.remote.engine_ops import ListIds

_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4, "p": 1024**5}
_SIZE = re.compile(r"^(\d+(?:\.\d+)?) ?([kmgtp]?)i?b?$", re.IGNORECASE)


def list_ids(labels: Mapping[str, str], all_: bool) -> ListIds:
    filters = {"label": [f"{k}={v}" for k, v in labels.items()]} if labels else {}
    params = (("all", "1"),) if all_ else ()
    return ListIds((*params, ("filters", json.dumps(filters, separators=(",", ":")))) if filters else params)


def memory_bytes(value: str) -> int:
    """Docker's size syntax (``512m``, ``1g``, ``1.5GiB``): binary units, as ``--memory`` reads it."""
    m = _SIZE.match(value.strip())
    if not m:
        raise ValueError(f"invalid size {value!r}: use a number with an optional unit b, k, m, g")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def create_body(
    *,
    image: str,
    labels: Mapping[str, str],
    publish: Sequence[tuple[int, int | None, str]],
    network: str | None,
    aliases: Sequence[str],
    volumes: Sequence[str],
    memory: str | None,
    cpus: float | None,
    pids: int | None,
    restart: str,
    command: Sequence[str] | None,
    log_max_size: str,
    log_max_file: int,
) -> dict[str, Any]:
    """The body of POST /containers/create that ``docker run`` sends for the same options.
    ``publish``: (container port, host port or None, host ip)."""
    host: dict[str, Any] = {
        "RestartPolicy": {"Name": restart, "MaximumRetryCount": 0},
        "LogConfig": {"Type": "", "Config": {"max-size": log_max_size, "max-file": str(log_max_file)}},
        "NetworkMode": network or "default",
    }
    body: dict[str, Any] = {"Image": image, "Labels": dict(labels)}
    if command:
        body["Cmd"] = list(command)
    if publish:
        body["ExposedPorts"] = {f"{port}/tcp": {} for port, _, _ in publish}
        bindings: dict[str, list[dict[str, str]]] = {}
        for port, host_port, ip in publish:
            bindings.setdefault(f"{port}/tcp", []).append({"HostIp": ip, "HostPort": str(host_port or "")})
        host["PortBindings"] = bindings
    if volumes:
        host["Binds"] = list(volumes)
    if memory:
        host["Memory"] = memory_bytes(memory)
    if cpus is not None:
        host["NanoCpus"] = round(cpus * 1e9)
    if pids is not None:
        host["PidsLimit"] = pids
    body["HostConfig"] = host
    if network:
        body["NetworkingConfig"] = {"EndpointsConfig": {network: {"Aliases": list(aliases)} if aliases else {}}}
    return body
