"""Building the normalised events from what a provider parser found.

The models validate (a commit id of 7-64 characters, a PR number >= 1); a violation is the
provider's payload being wrong, so it becomes :class:`MalformedPayload`, never a ValidationError.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from pydantic import ValidationError

from zpanel.events import PullRequestReceived, PushReceived
from zpanel_webhook_gateway.idempotency import event_id_for
from zpanel_webhook_gateway.providers.base import MalformedPayload

M = TypeVar("M", PushReceived, PullRequestReceived)
ProviderName = Literal["github", "gitlab", "bitbucket", "gitea"]
PullRequestAction = Literal["opened", "synchronize", "reopened", "closed"]


def push(
    provider: ProviderName,
    delivery_id: str,
    *,
    repo_url: str,
    branch: str,
    commit: str,
    repo_full_name: str | None,
    commit_message: str | None,
    pusher: str | None,
    changed_paths: list[str] | None,
) -> PushReceived:
    return _build(
        PushReceived,
        event_id=event_id_for(provider, delivery_id, f"push\n{branch}"),
        provider=provider,
        delivery_id=delivery_id,
        repo_url=repo_url,
        branch=branch,
        commit=commit,
        repo_full_name=repo_full_name,
        commit_message=commit_message,
        pusher=pusher,
        changed_paths=changed_paths,
    )


def pull_request(
    provider: ProviderName,
    delivery_id: str,
    *,
    action: PullRequestAction,
    number: int,
    repo_url: str,
    repo_full_name: str | None,
    base_branch: str,
    head_branch: str,
    commit: str,
) -> PullRequestReceived:
    return _build(
        PullRequestReceived,
        event_id=event_id_for(provider, delivery_id, f"pull_request\n{number}"),
        provider=provider,
        delivery_id=delivery_id,
        action=action,
        number=number,
        repo_url=repo_url,
        repo_full_name=repo_full_name,
        base_branch=base_branch,
        head_branch=head_branch,
        commit=commit,
    )


def changed_paths(commits: list[dict[str, Any]], total: object = None) -> list[str] | None:
    """Every path the commits added, modified or removed, in first-seen order; None when the
    payload does not list files for every commit (then watch paths cannot skip anything), or lists
    fewer commits than the ``total`` it says were pushed (GitLab lists at most 20)."""
    if not commits or (isinstance(total, int) and total > len(commits)):
        return None
    seen: dict[str, None] = {}
    for commit in commits:
        for key in ("added", "modified", "removed"):
            paths = commit.get(key)
            if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
                return None
            seen.update(dict.fromkeys(paths))
    return list(seen)


def _build(model: type[M], **fields: Any) -> M:
    try:
        return model(**fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise MalformedPayload(f"the payload gives an invalid {where or 'value'}: {first.get('msg')}") from exc
