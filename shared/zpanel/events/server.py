"""Server reachability, for notifications and the dashboard."""

from __future__ import annotations

from typing import Literal

from zpanel.events.base import Event


class ServerUnreachable(Event):
    TYPE = "server.unreachable"
    type: Literal["server.unreachable"] = "server.unreachable"
    server_id: str
    reason: str
