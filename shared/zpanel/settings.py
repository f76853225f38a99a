"""Settings from the environment (``ZPANEL_*``), validated at start-up.

An invalid value stops the process with one line naming the variable, e.g.
``ZPANEL_NATS_PORT: Input should be a valid integer (got 'abc')``.
"""

from __future__ import annotations

from datetime import timedelta
from functools import cached_property
from pathlib import Path

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from zpanel.errors import SettingsError
from zpanel.subjects import Catalogue


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZPANEL_", extra="ignore", frozen=True)

    home: Path = Field(Path(".zpanel"), description="state: NATS store, keys, service logs, stack.json")
    nats_url: str | None = Field(None, description="an existing NATS (cluster, comma-separated); else embedded")
    nats_port: int = Field(4222, ge=1, le=65535)
    nats_user: str | None = None
    nats_password: str | None = None
    nats_creds: Path | None = None
    http_port: int = Field(8000, ge=1, le=65535, description="API, webhooks and dashboard")
    http_host: str = "127.0.0.1"
    proxy_http_port: int = Field(80, ge=1, le=65535)
    proxy_https_port: int = Field(443, ge=1, le=65535)
    public_url: str | None = Field(None, description="the URL users reach the gateway at (webhook URLs)")

    max_open_per_server: int = Field(50, ge=1, description="webhooks answer 429 past this many open deployments")
    retry_after_s: int = Field(30, ge=1, description="the Retry-After of a 429")
    proxy_kind: str = Field("traefik", pattern="^(traefik|caddy)$", description="the proxy of the local server")
    proxy_dir: Path | None = Field(None, description="Traefik's dynamic-config directory; $ZPANEL_HOME/proxy/dynamic")
    caddy_admin_url: str = Field("http://127.0.0.1:2019", description="Caddy's admin API for the local server")
    proxy_image: str = Field("traefik:v3.7", description="the Traefik image Zpanel runs on servers reached over SSH")
    acme_email: str = Field(
        "", pattern=r"^$|^[^@\s]+@[^@\s]+\.[^@\s]+$", description="Let's Encrypt for public domains; empty: self-signed"
    )
    acme_ca: str = Field("", pattern=r"^$|^https://\S+$", description="the ACME directory URL; empty: Let's Encrypt")

    stream_replicas: int = Field(1, ge=1, le=5, description="3 in a cluster")
    duplicate_window_s: float = Field(120, gt=0)
    log_max_age_s: float = Field(7 * 86400, gt=0)
    event_max_age_s: float = Field(7 * 86400, gt=0)

    max_attempts: int = Field(3, ge=1, le=50, description="tries of a retryable error before dead-lettering")
    retry_base_s: float = Field(1.0, gt=0)
    retry_cap_s: float = Field(60.0, gt=0)
    ack_wait_s: float = Field(30.0, gt=0, description="a silent worker loses its message after this")
    build_concurrency: int = Field(2, ge=1, le=64, description="builds one builder process runs at once")
    build_claims: int = Field(256, ge=1, le=1024, description="deployments one builder process claims at once")
    deploy_concurrency: int = Field(4, ge=1, le=64, description="deployer steps one process runs at once per server")
    deploy_claims: int = Field(256, ge=1, le=1024, description="messages one deployer process claims per server")
    stage_claims: int = Field(256, ge=1, le=1024, description="messages health, proxy-sync, notifier claim at once")
    deployment_timeout_s: float = Field(1800, gt=0)

    secret_key: str | None = Field(None, description="Fernet key; else $ZPANEL_HOME/secret.key (made once)")
    base_image_python: str = "python:3.11-slim"
    base_image_node: str = "node:20-slim"
    base_image_go: str = "golang:1.22"
    base_image_static: str = "busybox:stable"
    notify_urls: str = Field("", description="global notification targets, one URL per line")
    log_format: str = Field("auto", pattern="^(auto|json|console)$")
    log_level: str = Field("info", pattern="^(debug|info|warning|error)$")

    @field_validator("nats_url")
    @classmethod
    def _nats_url(cls, v: str | None) -> str | None:
        if v and not all(u.strip().startswith(("nats://", "tls://", "ws://", "wss://")) for u in v.split(",")):
            raise ValueError("must be nats://HOST:PORT (comma-separated for a cluster)")
        return v

    @property
    def traefik_dir(self) -> Path:
        return self.proxy_dir or self.home / "proxy" / "dynamic"

    @property
    def nats_servers(self) -> list[str]:
        if self.nats_url:
            return [u.strip() for u in self.nats_url.split(",")]
        return [f"nats://127.0.0.1:{self.nats_port}"]

    @cached_property
    def catalogue(self) -> Catalogue:
        return Catalogue(
            log_max_age=timedelta(seconds=self.log_max_age_s),
            event_max_age=timedelta(seconds=self.event_max_age_s),
            duplicate_window=timedelta(seconds=self.duplicate_window_s),
        )

    def retry_delay(self, attempt: int) -> float:
        """Exponential: base, 2×base, 4×base … capped. ``attempt`` counts from 1."""
        return float(min(self.retry_cap_s, self.retry_base_s * 2 ** max(0, attempt - 1)))


def load(**overrides: object) -> Settings:
    """Read and validate; raise SettingsError naming each bad ``ZPANEL_*`` variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = "ZPANEL_" + "_".join(str(p) for p in err["loc"]).upper()
            got = err.get("input")
            shown = "" if isinstance(got, dict) or "secret" in key.lower() else f" (got {got!r})"
            problems.append(f"{key}: {err['msg']}{shown}")
        raise SettingsError("invalid settings: " + "; ".join(problems)) from None
