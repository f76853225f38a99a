"""proxy-sync's events: traffic switched to the new version (verified), or not."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from zpanel.events.base import Batch, Event, FailureDetail


class _ProxyEvent(Event):
    deployment_id: str
    app_id: str
    server_id: str


class ProxyUpdated(_ProxyEvent, Batch):
    TYPE = "proxy.updated"
    type: Literal["proxy.updated"] = "proxy.updated"
    domains: list[str] = Field(default_factory=list)
    upstreams: list[str] = Field(default_factory=list)
    switch_s: float = 0.0


class ProxyFailed(_ProxyEvent, FailureDetail, Batch):
    TYPE = "proxy.failed"
    type: Literal["proxy.failed"] = "proxy.failed"


class ProxyRestored(_ProxyEvent, FailureDetail, Batch):
    """The answer to deploy.reverting: the app routes to the old version again (``error`` None,
    verified like any switch), or it could not be switched back (``error`` says why). ``reason``,
    ``log_tail`` and ``outcome`` are the reverting's, for the deployer to finish with."""

    TYPE = "proxy.restored"
    type: Literal["proxy.restored"] = "proxy.restored"
    upstreams: list[str] = Field(default_factory=list)
    outcome: Literal["rolled_back", "cancelled"] = "rolled_back"
    error: str | None = None
