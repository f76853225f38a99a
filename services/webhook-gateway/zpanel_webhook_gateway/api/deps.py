"""What every route needs, in one object stored on the app (``request.app.state.deps``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request, WebSocket

from zpanel.bus import Bus
from zpanel.errors import SecretError
from zpanel.models import Application, Server
from zpanel.secrets import Cipher
from zpanel.settings import Settings
from zpanel.state import State
from zpanel_webhook_gateway.conductor import Conductor
from zpanel_webhook_gateway.providers import MAX_BODY_BYTES

ServerChecker = Callable[[Server, Cipher], Awaitable[dict[str, Any]]]
"""Probes a server: answers ``{"ssh": {"ok", "detail"}, "docker": {"ok", "detail", "version"}}``."""

PROVIDER_NAMES = ("github", "gitlab", "bitbucket", "gitea")
OPENED_SECRETS = 10_000


@dataclass(frozen=True)
class Limits:
    """Knobs of the HTTP edge (``create_app(..., limits=Limits(...))``)."""

    max_open_per_server: int = 50
    """A server's queue is full when more deployments than this are open (not terminal) on it."""
    retry_after_s: int = 30
    """What a 429 tells the provider to wait before redelivering."""
    queue_cache_s: float = 1.0
    """How long a count of open deployments is reused: a webhook burst must not scan the bucket each time."""
    max_body_bytes: int = MAX_BODY_BYTES


@dataclass
class Deps:
    bus: Bus
    state: State
    conductor: Conductor
    cipher: Cipher
    settings: Settings
    server_checker: ServerChecker
    limits: Limits = field(default_factory=Limits)
    _opened: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def public_url(self) -> str:
        base = self.settings.public_url or f"http://{self.settings.http_host}:{self.settings.http_port}"
        return base.rstrip("/")

    def webhook_urls(self) -> dict[str, str]:
        return {p: f"{self.public_url}/webhooks/{p}" for p in PROVIDER_NAMES}

    def secret_of(self, app: Application) -> str:
        """An app's webhook secret; one that cannot be opened verifies nothing (401, not 500).
        Kept opened in memory (where the key that opens them already is): opening costs more
        than the whole signature check, on every webhook."""
        sealed = app.webhook_secret
        found = self._opened.get(sealed)
        if found is None:
            try:
                found = self.cipher.open(sealed)
            except SecretError:
                return ""
            if len(self._opened) >= OPENED_SECRETS:
                self._opened.clear()
            self._opened[sealed] = found
        return found


def get_deps(request: Request) -> Deps:
    deps: Deps = request.app.state.deps
    return deps


def ws_deps(websocket: WebSocket) -> Deps:
    deps: Deps = websocket.app.state.deps
    return deps
