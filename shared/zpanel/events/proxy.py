"""proxy-sync's events: traffic switched to the new version (verified), or not."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from zpanel.events.base import Event, FailureDetail


class _ProxyEvent(Event):
    deployment_id: str
    app_id: str
    server_id: str


class ProxyUpdated(_ProxyEvent):
    TYPE = "proxy.updated"
    type: Literal["proxy.updated"] = "proxy.updated"
    domains: list[str] = Field(default_factory=list)
    upstreams: list[str] = Field(default_factory=list)
    switch_s: float = 0.0


class ProxyFailed(_ProxyEvent, FailureDetail):
    TYPE = "proxy.failed"
    type: Literal["proxy.failed"] = "proxy.failed"
