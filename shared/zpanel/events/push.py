"""Triggers: pushes from providers or other systems (CONTRACT §6), and pull requests."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from zpanel.events.base import Event


class PushReceived(Event):
    """A push to a branch. The external shape is fixed by the contract; more fields are optional."""

    TYPE = "push.received"
    type: Literal["push.received"] = "push.received"
    provider: Literal["github", "gitlab", "bitbucket", "gitea", "external"] = "external"
    repo_url: str
    branch: str
    commit: str = Field(min_length=7, max_length=64)
    repo_full_name: str | None = None
    commit_message: str | None = None
    pusher: str | None = None
    delivery_id: str | None = None
    changed_paths: list[str] | None = Field(None, description="files the push touched, when the provider says")


class PullRequestReceived(Event):
    """A pull/merge request opened, updated, reopened or closed (previews)."""

    TYPE = "pull_request.received"
    type: Literal["pull_request.received"] = "pull_request.received"
    provider: Literal["github", "gitlab", "bitbucket", "gitea", "external"]
    action: Literal["opened", "synchronize", "reopened", "closed"]
    number: int = Field(ge=1)
    repo_url: str
    repo_full_name: str | None = None
    base_branch: str
    head_branch: str
    commit: str = Field(min_length=7, max_length=64)
    delivery_id: str | None = None


class ScheduleFired(Event):
    """A NATS message schedule fired for an application's cron."""

    TYPE = "schedule.fired"
    type: Literal["schedule.fired"] = "schedule.fired"
    app_id: str
