"""The records Zpanel keeps in its KV buckets: applications, servers, deployments.

Pure pydantic models with no I/O. Secret values are stored sealed (see ``zpanel.secrets``):
a field typed ``Sealed`` holds ciphertext, never the plain value.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
"""Names of apps and servers: they become NATS subject tokens, KV keys and container names."""

Sealed = Annotated[str, Field(description="ciphertext made by zpanel.secrets.Cipher.seal")]


def utcnow() -> datetime:
    return datetime.now(UTC)


def check_name(value: str, what: str = "name") -> str:
    if not NAME_RE.match(value):
        raise ValueError(
            f"{what} {value!r} is not valid: use 1-63 lowercase letters, digits and '-', starting with a letter or digit"
        )
    return value


class Record(BaseModel):
    model_config = ConfigDict(extra="ignore", validate_assignment=True)


class Status(StrEnum):
    QUEUED = "queued"
    BUILDING = "building"
    DEPLOYING = "deploying"
    HEALTH_CHECKING = "health_checking"
    ROUTING = "routing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"
    CANCELLED = "cancelled"
    SUPERSEDED = "superseded"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL


RANK = {
    "queued": 0,
    "building": 1,
    "deploying": 2,
    "health_checking": 3,
    "routing": 4,
}
"""Non-terminal statuses only move forward; events processed out of order cannot move one back."""

TERMINAL = frozenset({Status.SUCCEEDED, Status.FAILED, Status.ROLLED_BACK, Status.CANCELLED, Status.SUPERSEDED})

Trigger = Literal["push", "manual", "api", "schedule", "rollback", "preview", "external"]
BuildKind = Literal["auto", "dockerfile", "static", "compose"]
Strategy = Literal["zero-downtime", "blue-green", "rolling", "recreate"]


class EnvVar(Record):
    key: str
    value: str = Field(description="plain for ordinary values, sealed ciphertext when secret is true")
    secret: bool = False
    build_time: bool = False

    @field_validator("key")
    @classmethod
    def _key(cls, v: str) -> str:
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", v):
            raise ValueError(f"environment variable name {v!r} is not valid: use letters, digits and '_'")
        return v


class HealthSettings(Record):
    type: Literal["http", "tcp", "container", "command"] = "http"
    path: str = "/"
    expected_status: tuple[int, int] = (200, 399)
    body_contains: str | None = None
    host_header: str | None = None
    command: list[str] | None = None
    interval: float = Field(0.25, gt=0, description="seconds between probes while the container starts")
    timeout: float = Field(5.0, gt=0)
    retries: int = Field(3, ge=1, description="consecutive failures after start_period that fail the check")
    start_period: float = Field(60.0, ge=0, description="seconds during which failures do not count")
    successes: int = Field(1, ge=1, description="consecutive successes needed to pass")


class BuildSettings(Record):
    kind: BuildKind = "auto"
    dockerfile: str = "Dockerfile"
    target: str | None = None
    context: str = "."
    args: dict[str, str] = Field(default_factory=dict)
    compose_file: str = "docker-compose.yml"
    submodules: bool = False


MEMORY = r"^[1-9][0-9]{0,6}[kmg]$"
VOLUME = re.compile(r"^(?P<name>[a-z0-9][a-z0-9_.-]{0,62}):(?P<path>/[A-Za-z0-9._/@+-]{0,1000})(?P<ro>:ro)?$")


def check_volume(value: str) -> str:
    found = VOLUME.match(value)
    if not found or found["path"] == "/" or "/../" in f"{found['path']}/":
        raise ValueError(
            f"volume {value!r} is not NAME:/path[:ro] (a name of lowercase letters, digits, '_.-'; an absolute path "
            "inside the container other than /)"
        )
    return value


def volume_name(app_id: str, spec: str) -> str:
    """The Docker volume an application's ``NAME:/path`` uses: by its id, so a rename keeps the data."""
    return f"zpanel-{app_id}-{spec.split(':', 1)[0]}"


class Application(Record):
    id: str
    name: str
    repo: str
    branch: str = "main"
    server: str
    domains: list[str] = Field(default_factory=list)
    port: int = Field(8080, ge=1, le=65535)
    build: BuildSettings = Field(default_factory=BuildSettings)
    health: HealthSettings = Field(default_factory=HealthSettings)
    strategy: Strategy = "zero-downtime"
    replicas: int = Field(1, ge=1, le=100)
    previews: bool = False
    schedule: str | None = None
    pre_deploy: str | None = None
    post_deploy: str | None = None
    notify: list[Sealed] = Field(default_factory=list, description="sealed notification URLs (they hold tokens)")
    auto_deploy: bool = True
    watch_paths: list[str] = Field(default_factory=list)
    keep_images: int = Field(3, ge=1)
    drain_timeout: float = Field(
        30.0, ge=0, le=3600, description="seconds the old version may keep serving requests in flight"
    )
    memory: str | None = Field(None, pattern=MEMORY, description="memory limit per container: 512m, 2g")
    cpus: float | None = Field(None, gt=0, le=512, description="CPU limit per container: 0.5, 2")
    volumes: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="named volumes NAME:/path[:ro], kept across deployments (docker volume zpanel-<app id>-NAME)",
    )
    webhook_secret: Sealed = ""
    env: list[EnvVar] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=utcnow)

    _name = field_validator("name")(lambda cls, v: check_name(v, "application name"))
    _server = field_validator("server")(lambda cls, v: check_name(v, "server name"))
    _volumes = field_validator("volumes")(lambda cls, v: [check_volume(x) for x in v])

    def docker_volumes(self) -> tuple[str, ...]:
        """``--volume`` values: each ``NAME:/path[:ro]`` on the app's own named volume."""
        return tuple(f"{volume_name(self.id, v)}:{v.split(':', 1)[1]}" for v in self.volumes)


class Server(Record):
    name: str
    kind: Literal["local", "ssh"] = "ssh"
    host: str = "127.0.0.1"
    port: int = Field(22, ge=1, le=65535)
    user: str = "root"
    private_key: Sealed = ""
    known_hosts: str = Field("", description="the pinned host key line(s), OpenSSH known_hosts format")
    proxy: Literal["traefik", "caddy"] = "traefik"
    proxy_http_port: int = Field(80, ge=1, le=65535, description="where the server's proxy listens for HTTP")
    proxy_https_port: int | None = Field(
        443, ge=1, le=65535, description="where the server's proxy listens for HTTPS; None: plain HTTP only"
    )
    proxy_dir: str = Field("/etc/zpanel/traefik", description="the server's Traefik dynamic-config directory")
    manage_proxy: bool = Field(True, description="Zpanel runs the server's Traefik (container zpanel-proxy)")
    max_concurrency: int = Field(2, ge=1, le=64)
    created_at: datetime = Field(default_factory=utcnow)

    _name = field_validator("name")(lambda cls, v: check_name(v, "server name"))


class StageRecord(Record):
    name: Literal["queue", "build", "deploy", "health", "route", "finish"]
    status: Literal["pending", "running", "succeeded", "failed", "skipped", "cancelled"] = "pending"
    started_at: datetime | None = None
    finished_at: datetime | None = None


class ContainerRef(Record):
    id: str
    name: str
    address: str = Field(description="host:port the health checker and the proxy reach it at")
    replica: int = 0


class Deployment(Record):
    id: str
    app_id: str
    app_name: str
    server_id: str
    status: Status = Status.QUEUED
    trigger: Trigger = "manual"
    commit: str | None = None
    branch: str | None = None
    image: str | None = None
    rollback_of: str | None = Field(None, description="the deployment whose image a rollback reuses")
    preview: int | None = None
    containers: list[ContainerRef] = Field(default_factory=list)
    previous_containers: list[ContainerRef] = Field(default_factory=list)
    stages: list[StageRecord] = Field(default_factory=list)
    error: str | None = None
    cancel_requested: bool = False
    trace_id: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
    routed_at: datetime | None = Field(None, description="when the proxy first sent traffic to its containers")
    deadline: datetime | None = None
    spec: Application | None = Field(None, description="the application as it was when requested")


def preview_parent(app_id: str) -> tuple[str, int] | None:
    """The application id and pull-request number a preview's id was made from, or None."""
    base, sep, number = app_id.rpartition("-pr-")
    if not sep or not base or not number.isdigit():
        return None
    return base, int(number)


def preview_app(app: Application, number: int) -> Application:
    """The application a pull request's preview runs as: its own id, containers and domains
    (``pr-<n>.<domain>``), so it never touches the production version of ``app``."""
    suffix = f"-pr-{number}"
    return app.model_copy(
        update={
            "id": f"{app.id}{suffix}",
            "name": f"{app.name[: 63 - len(suffix)]}{suffix}",
            "domains": [f"pr-{number}.{d}" for d in app.domains],
            "previews": False,
            "schedule": None,
            "replicas": 1,
        }
    )
