"""A line of a deployment's log."""

from __future__ import annotations

from typing import Literal

from zpanel.events.base import Event


class LogLine(Event):
    TYPE = "log.line"
    type: Literal["log.line"] = "log.line"
    deployment_id: str
    stage: str
    line: str
    stream: Literal["stdout", "stderr", "system"] = "system"
    final: bool = False
