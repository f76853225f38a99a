"""What the deployer reads back from Docker: ``docker inspect`` and ``docker image ls`` output,
parsed by pure functions into small records."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from zpanel.models import ContainerRef
from zpanel_deployer import labels as L


@dataclass(frozen=True)
class ContainerInfo:
    id: str
    name: str
    image: str  # the reference it was started from
    image_id: str
    running: bool
    status: str
    created: str
    labels: dict[str, str] = field(default_factory=dict)
    ports: dict[str, list[str]] = field(default_factory=dict)  # "8080/tcp" → ["127.0.0.1:49153"]
    networks: dict[str, str] = field(default_factory=dict)  # network → IP

    @property
    def deployment(self) -> str:
        return self.labels.get(L.DEPLOYMENT, "")

    @property
    def replica(self) -> int:
        try:
            return int(self.labels.get(L.REPLICA, "0"))
        except ValueError:
            return 0

    def address(self, port: int, network: str | None = None) -> str:
        """Where the health checker and the proxy reach the app's ``port``: the published host
        address when there is one, else the container's name on the apps' network, else its IP."""
        published = self.ports.get(f"{port}/tcp") or []
        if published:
            return published[0]
        if network and network in self.networks:
            return f"{self.name}:{port}"
        ip = next((ip for ip in self.networks.values() if ip), "")
        return f"{ip}:{port}"

    def ref(self, port: int, network: str | None = None) -> ContainerRef:
        return ContainerRef(id=self.id, name=self.name, address=self.address(port, network), replica=self.replica)


def parse_inspect(text: str) -> list[ContainerInfo]:
    out = []
    for c in json.loads(text or "[]"):
        state = c.get("State") or {}
        net = c.get("NetworkSettings") or {}
        ports: dict[str, list[str]] = {}
        for spec, bindings in (net.get("Ports") or {}).items():
            ports[spec] = [f"{b.get('HostIp') or '0.0.0.0'}:{b['HostPort']}" for b in bindings or []]
        networks = {n: (v or {}).get("IPAddress", "") for n, v in (net.get("Networks") or {}).items()}
        config = c.get("Config") or {}
        out.append(
            ContainerInfo(
                id=c["Id"],
                name=c.get("Name", "").lstrip("/"),
                image=config.get("Image", ""),
                image_id=c.get("Image", ""),
                running=bool(state.get("Running")),
                status=state.get("Status", ""),
                created=c.get("Created", ""),
                labels=dict(config.get("Labels") or {}),
                ports=ports,
                networks=networks,
            )
        )
    return out


@dataclass(frozen=True)
class ImageInfo:
    ref: str  # "repo:tag", or the id when untagged
    id: str
    created: datetime


def parse_image_ls(text: str) -> list[ImageInfo]:
    """``docker image ls --format '{{json .}}'`` lines. CreatedAt looks like
    ``2026-11-27 10:11:12 +0000 UTC``."""
    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        tag = row.get("Tag", "<none>")
        ref = row["ID"] if tag == "<none>" else f"{row['Repository']}:{tag}"
        created = datetime.strptime(" ".join(row["CreatedAt"].split()[:3]), "%Y-%m-%d %H:%M:%S %z")
        out.append(ImageInfo(ref=ref, id=row["ID"], created=created))
    return out
