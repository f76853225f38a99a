"""What one deployment asks of one server, and where its containers sit there."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from zpanel.models import Application
from zpanel_deployer.commands.docker import Limits

DEFAULT_ROOT = "/var/lib/zpanel/apps"


@dataclass(frozen=True)
class Placement:
    """Per server: where files go and how containers are reached.

    ``publish_ip``: publish the app port on that host address with a port Docker picks (the
    ``local`` server: the proxy on the host targets ``127.0.0.1:<port>``). ``network``: join the
    apps' network, where a proxy container reaches them by name (remote servers)."""

    root: str = DEFAULT_ROOT
    network: str | None = None
    publish_ip: str | None = "127.0.0.1"
    limits: Limits = field(default_factory=Limits)
    volumes: tuple[str, ...] = ()
    stop_timeout: int = 10
    predeploy_timeout: float = 900.0
    log_tail: int = 20
    certresolver: str | None = None
    """The ACME resolver Traefik labels name for public domains: set only where the proxy has it."""


@dataclass(frozen=True)
class DeployRequest:
    app: Application
    deployment_id: str
    image: str
    commit: str | None = None
    env: Mapping[str, str] = field(default_factory=dict, repr=False)  # plain values, secrets opened
    secrets: frozenset[str] = field(default_factory=frozenset, repr=False)  # values to redact from output
    extra_labels: Mapping[str, str] = field(default_factory=dict)

    def directory(self, root: str) -> str:
        return f"{root.rstrip('/')}/{self.app.name}/{self.deployment_id}"

    def redact(self, text: str) -> str:
        for value in sorted(self.secrets, key=len, reverse=True):
            if value:
                text = text.replace(value, "***")
        return text
