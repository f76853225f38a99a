"""A dead letter: work that exhausted its retries or failed permanently, kept for replay."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from zpanel.events.base import Event


class DeadLetter(Event):
    TYPE = "dead_letter"
    type: Literal["dead_letter"] = "dead_letter"
    stage: str
    subject: str = Field(description="the subject the original message was published on")
    stream: str
    stream_seq: int
    consumer: str
    reason: str
    num_delivered: int
    headers: dict[str, str] = Field(default_factory=dict)
    data: str = Field(description="the original payload, UTF-8 text")
