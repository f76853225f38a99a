"""Request bodies. Strings that end up in argv, proxy rules or NATS subjects are checked here, so a
bad value is a 422 naming the field, never a surprise further down the pipeline."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from zpanel.models import MEMORY, BuildKind, BuildSettings, HealthSettings, Strategy, check_name, check_volume

_DOMAIN = re.compile(r"^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_BRANCH = re.compile(r"^(?!-)(?!.*\.\.)[A-Za-z0-9._/+-]{1,200}$")
_HOST = re.compile(r"^(?!-)[A-Za-z0-9.:%_-]{1,253}$")
_USER = re.compile(r"^[A-Za-z_][A-Za-z0-9._-]{0,31}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\s]")


def _app_name(v: str) -> str:
    return check_name(v, "application name")


def _server_name(v: str) -> str:
    return check_name(v, "server name")


def _domain(v: str) -> str:
    v = v.strip().lower()
    if len(v) > 253 or not _DOMAIN.match(v):
        raise ValueError(f"{v!r} is not a domain name (like app.example.com)")
    return v


def _branch(v: str) -> str:
    if not _BRANCH.match(v) or v.endswith((".", "/", ".lock")):
        raise ValueError("not a valid git branch name")
    return v


def _repo(v: str) -> str:
    if not v or v.startswith("-") or _CONTROL.search(v):
        raise ValueError("give a git URL (https://…, git@host:owner/repo.git) or a local path, without spaces")
    return v


def _host(v: str) -> str:
    if not _HOST.match(v):
        raise ValueError("give a host name or an IP address")
    return v


def _user(v: str) -> str:
    if not _USER.match(v):
        raise ValueError("give a user name of letters, digits, '.', '_' or '-'")
    return v


def _cron(v: str | None) -> str | None:
    if v is None or not v.strip():
        return None
    from zpanel.errors import PermanentError
    from zpanel.schedules import to_nats_schedule

    try:
        to_nats_schedule(v)
    except PermanentError as exc:
        raise ValueError(str(exc)) from None
    return v.strip()


AppName = Annotated[str, AfterValidator(_app_name)]
ServerName = Annotated[str, AfterValidator(_server_name)]
Domain = Annotated[str, Field(max_length=253), AfterValidator(_domain)]
Branch = Annotated[str, Field(max_length=200), AfterValidator(_branch)]
Repo = Annotated[str, Field(min_length=1, max_length=2000), AfterValidator(_repo)]
Cron = Annotated[str | None, Field(max_length=200), AfterValidator(_cron)]
Command = Annotated[str | None, Field(max_length=4000)]
NotifyUrl = Annotated[str, Field(min_length=3, max_length=4000, pattern=r"^[A-Za-z][A-Za-z0-9+.-]*://")]
WatchPath = Annotated[str, Field(min_length=1, max_length=500)]
Secret = Annotated[str, Field(min_length=8, max_length=500)]
Volume = Annotated[str, Field(max_length=1100), AfterValidator(check_volume)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ApplicationFields(Body):
    """Every field an application has that a user sets; all optional here (PATCH)."""

    repo: Repo | None = None
    branch: Branch | None = None
    server: ServerName | None = None
    domains: list[Domain] | None = Field(None, max_length=50)
    port: int | None = Field(None, ge=1, le=65535)
    build: BuildKind | BuildSettings | None = None
    health_path: str | None = Field(None, min_length=1, max_length=500, pattern=r"^/")
    health: HealthSettings | None = None
    strategy: Strategy | None = None
    replicas: int | None = Field(None, ge=1, le=100)
    previews: bool | None = None
    schedule: Cron = None
    pre_deploy: Command = None
    post_deploy: Command = None
    notify: list[NotifyUrl] | None = Field(None, max_length=20)
    webhook_secret: Secret | None = None
    auto_deploy: bool | None = None
    watch_paths: list[WatchPath] | None = Field(None, max_length=100)
    keep_images: int | None = Field(None, ge=1, le=100)
    drain_timeout: float | None = Field(
        None, ge=0, le=3600, description="seconds the old version may keep serving requests in flight (30)"
    )
    memory: str | None = Field(None, pattern=MEMORY, description="memory limit per container: 512m, 2g")
    cpus: float | None = Field(None, gt=0, le=512, description="CPU limit per container: 0.5, 2")
    volumes: list[Volume] | None = Field(
        None, max_length=20, description="named volumes NAME:/path[:ro], kept across deployments"
    )


class ApplicationPatch(ApplicationFields):
    name: AppName | None = None


class ApplicationCreate(ApplicationFields):
    name: AppName
    repo: Repo  # type: ignore[assignment]
    server: ServerName  # type: ignore[assignment]


class EnvPut(Body):
    value: str = Field(max_length=65536)
    secret: bool = False
    build_time: bool = False


class DeployBody(Body):
    commit: str | None = Field(None, min_length=4, max_length=64, pattern=r"^[0-9a-fA-F]+$")


class RedeployBody(Body):
    deployment_id: str | None = Field(None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")


class ServerCreate(Body):
    name: ServerName
    kind: Literal["local", "ssh"] | None = Field(
        None, description="default: local for the server named local, else ssh"
    )
    host: Annotated[str, AfterValidator(_host)] | None = None
    port: int = Field(22, ge=1, le=65535)
    user: Annotated[str, AfterValidator(_user)] = "root"
    private_key: str | None = Field(None, max_length=32768, description="PEM text; stored encrypted, never shown")
    known_hosts: str | None = Field(None, max_length=32768, description="the host key line(s) to pin")
    proxy: Literal["traefik", "caddy"] = "traefik"
    max_concurrency: int = Field(2, ge=1, le=64)
    manage_proxy: bool = Field(
        True, description="SSH servers: Zpanel runs the server's Traefik (container zpanel-proxy)"
    )
    proxy_http_port: int = Field(80, ge=1, le=65535, description="SSH servers: where its proxy listens for HTTP")
    proxy_https_port: int | None = Field(
        443, ge=1, le=65535, description="SSH servers: where its proxy listens for HTTPS; null: plain HTTP only"
    )
    proxy_dir: str = Field(
        "/etc/zpanel/traefik",
        pattern=r"^/[A-Za-z0-9._/-]{0,254}$",
        description="SSH servers: the directory of its Traefik's dynamic configuration",
    )


class TokenCreate(Body):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9 ._@-]+$")


_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def path_key(value: str, missing: str) -> str:
    """A path parameter that names a KV key: anything a key cannot be is simply not there (404)."""
    if not _KEY.match(value):
        from zpanel.errors import NotFound

        raise NotFound(missing)
    return value
