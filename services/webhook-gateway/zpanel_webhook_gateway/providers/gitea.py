"""Gitea, Forgejo and Gogs webhooks (the "Gitea" webhook type).

Signature: ``X-Gitea-Signature`` (Forgejo also sends ``X-Forgejo-Signature``, Gogs
``X-Gogs-Signature``): the hex HMAC-SHA256 of the raw body, no prefix; empty is a rejection.
Events: ``push``, ``pull_request``, and ``create``/``delete`` (of branches and tags). The payloads
copy GitHub's; what real deliveries teach: a push has no ``deleted`` flag (an all-zero ``after``
means the branch was deleted), and a pull request that received new commits says ``synchronized``.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Final

from zpanel_webhook_gateway.providers import events, github, payload, refs
from zpanel_webhook_gateway.providers.base import Ignored, Parsed, TriggerEvent
from zpanel_webhook_gateway.providers.payload import Doc
from zpanel_webhook_gateway.providers.wire import Handler, HexSignature, Wire

NAME: Final = "gitea"
WIRE = Wire(
    NAME,
    "Gitea",
    delivery_headers=("X-Gitea-Delivery", "X-Forgejo-Delivery", "X-Gogs-Delivery"),
    event_headers=("X-Gitea-Event", "X-Forgejo-Event", "X-Gogs-Event"),
)
SIGNATURE = HexSignature(("X-Gitea-Signature", "X-Forgejo-Signature", "X-Gogs-Signature"))
_PR_ACTIONS: dict[str, events.PullRequestAction] = {
    "opened": "opened",
    "reopened": "reopened",
    "synchronized": "synchronize",
    "closed": "closed",
}

verify = SIGNATURE.verify
delivery_id = WIRE.delivery_id


def signature_problem(headers: Mapping[str, str]) -> str | None:
    if SIGNATURE.given(headers):
        return None
    return "missing or empty X-Gitea-Signature header: set the application's webhook secret on the Gitea webhook"


def parse(headers: Mapping[str, str], raw_body: bytes) -> Parsed:
    event = WIRE.event(headers)
    doc = payload.load(raw_body)
    return WIRE.route(event, doc, delivery_id(headers, raw_body), _HANDLERS, github.repo_url, _other)


def _push(doc: Doc, delivery: str, repo_url: str) -> TriggerEvent | Ignored:
    target = refs.pushed_branch(doc)
    if isinstance(target, Ignored):
        return target
    head = payload.opt_obj(doc, "head_commit")
    commit = refs.commit_id(payload.text(head, "id") if head else payload.text(doc, "after"))
    commits = payload.objects(doc, "commits")
    if head is None:  # older Gitea: find the head among the listed commits
        head = next((c for c in commits if str(c.get("id", "")).lower() == commit), commits[0] if commits else None)
    message = payload.opt_text(head, "message") if head else None
    if skip := refs.skipped(commit, message):
        return skip
    return events.push(
        NAME,
        delivery,
        repo_url=repo_url,
        branch=target,
        commit=commit,
        repo_full_name=payload.opt_text(doc, "repository", "full_name"),
        commit_message=message,
        pusher=payload.opt_text(doc, "pusher", "login") or payload.opt_text(doc, "pusher", "username"),
        changed_paths=events.changed_paths(commits, doc.get("total_commits")),
    )


def _origin(doc: Doc, head: Doc, base: Doc) -> tuple[bool, str | None]:
    head_repo = payload.opt_scalar(head, "repo_id") or payload.opt_text(head, "repo", "full_name")
    base_repo = payload.opt_scalar(base, "repo_id") or payload.opt_text(base, "repo", "full_name")
    if head_repo is None or head_repo != base_repo:
        return False, None
    return True, payload.opt_text(doc, "repository", "full_name")


def _other(event: str, doc: Doc) -> Ignored:
    if event == "delete" and payload.opt_text(doc, "ref_type") == "branch":
        return refs.deleted(payload.opt_text(doc, "ref") or "?")
    if event in ("create", "delete"):
        return Ignored("not_a_branch", f"{payload.opt_text(doc, 'ref_type') or 'ref'} {event}d: only pushes deploy")
    return WIRE.unsupported(event)


_HANDLERS: dict[str, Handler] = {
    "push": _push,
    "pull_request": partial(github.pull_request, NAME, actions=_PR_ACTIONS, origin=_origin),
}
