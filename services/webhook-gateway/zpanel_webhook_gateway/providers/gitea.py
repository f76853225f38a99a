"""Gitea, Forgejo and Gogs webhooks (the "Gitea" webhook type).

Signature: ``X-Gitea-Signature`` (Forgejo also sends ``X-Forgejo-Signature``, Gogs
``X-Gogs-Signature``): the hex HMAC-SHA256 of the raw body, no prefix; empty is a rejection.
Events: ``push``, ``pull_request``, and ``create``/``delete`` (of branches and tags). What real
deliveries teach: a push has no ``deleted`` flag (an all-zero ``after`` means the branch was
deleted), and a pull request that received new commits says ``synchronized``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from zpanel_webhook_gateway.providers import events, payload, refs
from zpanel_webhook_gateway.providers.base import (
    Ignored,
    MalformedPayload,
    Parsed,
    body_digest_id,
    first_header,
    matches_hex_signature,
)
from zpanel_webhook_gateway.providers.payload import Doc

NAME: Final = "gitea"
SIGNATURE_HEADERS = ("X-Gitea-Signature", "X-Forgejo-Signature", "X-Gogs-Signature")
DELIVERY_HEADERS = ("X-Gitea-Delivery", "X-Forgejo-Delivery", "X-Gogs-Delivery")
EVENT_HEADERS = ("X-Gitea-Event", "X-Forgejo-Event", "X-Gogs-Event")
_PR_ACTIONS: dict[str, events.PullRequestAction] = {
    "opened": "opened",
    "reopened": "reopened",
    "synchronized": "synchronize",
    "closed": "closed",
}


def verify(headers: Mapping[str, str], raw_body: bytes, secret: str) -> bool:
    return matches_hex_signature(secret, raw_body, first_header(headers, *SIGNATURE_HEADERS))


def signature_problem(headers: Mapping[str, str]) -> str | None:
    if first_header(headers, *SIGNATURE_HEADERS):
        return None
    return "missing or empty X-Gitea-Signature header: set the application's webhook secret on the Gitea webhook"


def delivery_id(headers: Mapping[str, str], raw_body: bytes) -> str:
    return first_header(headers, *DELIVERY_HEADERS) or body_digest_id(raw_body)


def parse(headers: Mapping[str, str], raw_body: bytes) -> Parsed:
    event = first_header(headers, *EVENT_HEADERS)
    if not event:
        raise MalformedPayload("missing X-Gitea-Event header: is this a Gitea webhook?")
    doc = payload.load(raw_body)
    delivery = delivery_id(headers, raw_body)
    if event == "push":
        return _push(doc, delivery)
    if event == "pull_request":
        return _pull_request(doc, delivery)
    repo_url = _repo_url(doc) if payload.opt_obj(doc, "repository") else None
    if event == "delete" and payload.opt_text(doc, "ref_type") == "branch":
        why = refs.deleted(payload.opt_text(doc, "ref") or "?")
    elif event in ("create", "delete"):
        why = Ignored("not_a_branch", f"{payload.opt_text(doc, 'ref_type') or 'ref'} {event}d: only pushes deploy")
    else:
        why = Ignored("unsupported_event", f"Gitea event {event!r} deploys nothing")
    return Parsed(NAME, delivery, repo_url, ignored=(why,))


def _repo_url(doc: Doc) -> str:
    return payload.opt_text(doc, "repository", "clone_url") or payload.text(doc, "repository", "html_url")


def _push(doc: Doc, delivery: str) -> Parsed:
    repo_url = _repo_url(doc)

    def ignored(why: Ignored) -> Parsed:
        return Parsed(NAME, delivery, repo_url, ignored=(why,))

    target = refs.classify_ref(payload.text(doc, "ref"))
    if isinstance(target, Ignored):
        return ignored(target)
    if refs.is_zero(payload.opt_text(doc, "after")):
        return ignored(refs.deleted(target))
    head = payload.opt_obj(doc, "head_commit")
    commit = refs.commit_id(payload.text(head, "id") if head else payload.text(doc, "after"))
    commits = payload.objects(doc, "commits")
    if head is None:  # older Gitea: find the head among the listed commits
        head = next((c for c in commits if str(c.get("id", "")).lower() == commit), commits[0] if commits else None)
    message = payload.opt_text(head, "message") if head else None
    marker = refs.skip_marker(message)
    if marker:
        return ignored(refs.skipped(commit, marker))
    total = doc.get("total_commits")
    complete = not (isinstance(total, int) and total > len(commits))
    event = events.push(
        NAME,
        delivery,
        repo_url=repo_url,
        branch=target,
        commit=commit,
        repo_full_name=payload.opt_text(doc, "repository", "full_name"),
        commit_message=message,
        pusher=payload.opt_text(doc, "pusher", "login") or payload.opt_text(doc, "pusher", "username"),
        changed_paths=events.changed_paths(commits) if complete else None,
    )
    return Parsed(NAME, delivery, repo_url, events=(event,))


def _pull_request(doc: Doc, delivery: str) -> Parsed:
    repo_url = _repo_url(doc)
    action = payload.text(doc, "action")
    number = payload.integer(doc, "number")
    mapped = _PR_ACTIONS.get(action)
    if mapped is None:
        why = Ignored("unsupported_action", f"pull request #{number} {action}: previews only follow new commits")
        return Parsed(NAME, delivery, repo_url, ignored=(why,))
    head = payload.obj(doc, "pull_request", "head")
    base = payload.obj(doc, "pull_request", "base")
    head_repo = payload.opt_scalar(head, "repo_id") or payload.opt_text(head, "repo", "full_name")
    base_repo = payload.opt_scalar(base, "repo_id") or payload.opt_text(base, "repo", "full_name")
    if head_repo is None or head_repo != base_repo:
        why = Ignored(
            "fork", f"pull request #{number} comes from a fork: previews only build this repository's branches"
        )
        return Parsed(NAME, delivery, repo_url, ignored=(why,))
    event = events.pull_request(
        NAME,
        delivery,
        action=mapped,
        number=number,
        repo_url=repo_url,
        repo_full_name=payload.opt_text(doc, "repository", "full_name"),
        base_branch=refs.branch_name(payload.text(base, "ref"), "base branch"),
        head_branch=refs.branch_name(payload.text(head, "ref"), "head branch"),
        commit=refs.commit_id(payload.text(head, "sha")),
    )
    return Parsed(NAME, delivery, repo_url, events=(event,))
