"""The Traefik a server reached over SSH runs, as pure data: its static configuration, the
``docker run`` argv that starts it as the container ``zpanel-proxy``, and the label that tells
whether a running one is still the one wanted (see ``proxy_boot`` for the side effects).

The container uses the host's network, so it listens on the server's own ports as a proxy
installed on the host would, and reaches upstreams published on the host's loopback. The dynamic
directory proxy-sync writes is mounted read-only: the proxy only reads what Zpanel writes. With
ACME (``ZPANEL_ACME_EMAIL``) its certificate store, one file beside that directory, is mounted
read-write: the account and certificates outlive the container.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from zpanel_proxy_sync import traefik
from zpanel_proxy_sync.acme import Acme

CONTAINER = "zpanel-proxy"
KIND_LABEL = "zpanel.proxy"
CONFIG_LABEL = "zpanel.proxy.config"
STATIC_IN_CONTAINER = "/etc/traefik/traefik.yml"
DYNAMIC_IN_CONTAINER = "/etc/traefik/dynamic"
ACME_IN_CONTAINER = "/etc/traefik/acme.json"


def static_path(proxy_dir: str) -> str:
    """Beside the dynamic directory, not in it: the file provider would read it as dynamic."""
    return f"{proxy_dir.rstrip('/')}-static.yml"


def acme_path(proxy_dir: str) -> str:
    """Beside the dynamic directory too; made (empty, mode 600) before the container starts, as
    Docker binds only an existing file and Traefik ignores a store others can read."""
    return f"{proxy_dir.rstrip('/')}-acme.json"


@dataclass(frozen=True)
class ProxySpec:
    proxy_dir: str
    image: str
    http_port: int = 80
    https_port: int | None = 443
    """None: plain HTTP only (no ``websecure`` entrypoint)."""
    bind: str = ""
    """The address both entrypoints listen on; empty: every interface."""
    name: str = CONTAINER
    acme: Acme | None = None
    """None: no certificate resolver (public domains get Traefik's default certificate)."""

    @property
    def static_file(self) -> str:
        return static_path(self.proxy_dir)

    @property
    def acme_file(self) -> str | None:
        return acme_path(self.proxy_dir) if self.acme else None

    def static_text(self) -> str:
        return traefik.render(
            traefik.static_config(
                DYNAMIC_IN_CONTAINER,
                web_address=f"{self.bind}:{self.http_port}",
                websecure_address=None if self.https_port is None else f"{self.bind}:{self.https_port}",
                acme=self.acme,
                acme_storage=ACME_IN_CONTAINER,
            )
        )

    def ports(self) -> tuple[int, ...]:
        return (self.http_port,) if self.https_port is None else (self.http_port, self.https_port)

    def _argv(self) -> list[str]:
        store = ["--mount", f"type=bind,source={self.acme_file},target={ACME_IN_CONTAINER}"] if self.acme_file else []
        return [
            "docker",
            "run",
            "--detach",
            "--name",
            self.name,
            "--label",
            f"{KIND_LABEL}=traefik",
            "--restart",
            "unless-stopped",
            "--network",
            "host",
            "--mount",
            f"type=bind,source={self.static_file},target={STATIC_IN_CONTAINER},readonly",
            "--mount",
            f"type=bind,source={self.proxy_dir.rstrip('/')},target={DYNAMIC_IN_CONTAINER},readonly",
            *store,
            self.image,
            f"--configFile={STATIC_IN_CONTAINER}",
        ]

    def config_hash(self) -> str:
        """Of everything that shapes the running proxy: the static configuration (with the ACME
        e-mail and CA), the image, the mounts (with the certificate store) and ports. A change to any of them re-creates the container."""
        blob = json.dumps([self.static_text(), self._argv()], separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def run_argv(self) -> list[str]:
        argv = self._argv()
        at = argv.index("--restart")
        return [*argv[:at], "--label", f"{CONFIG_LABEL}={self.config_hash()}", *argv[at:]]


INSPECT_FORMAT = '{{.State.Status}} {{index .Config.Labels "' + CONFIG_LABEL + '"}}'


def inspect_argv(name: str = CONTAINER) -> list[str]:
    return ["docker", "inspect", "--type", "container", "--format", INSPECT_FORMAT, name]


@dataclass(frozen=True)
class Running:
    """What ``inspect_argv`` found: the container's state and its configuration label."""

    status: str
    config: str

    @classmethod
    def parse(cls, out: str) -> Running:
        status, _, config = out.strip().partition(" ")
        return cls(status, config.strip())

    def matches(self, spec: ProxySpec) -> bool:
        return self.status == "running" and self.config == spec.config_hash()


def missing_container(stderr: str) -> bool:
    return "no such container" in stderr.lower() or "no such object" in stderr.lower()


def name_conflict(stderr: str) -> bool:
    """``docker run`` lost a race with another proxy-sync process starting the same proxy."""
    return "conflict" in stderr.lower() and "already in use" in stderr.lower()


def no_docker(returncode: int | None, stderr: str) -> bool:
    return returncode == 127 or "docker: not found" in stderr or "command not found" in stderr
