"""GitHub (and GitHub Enterprise Server) webhooks.

Signature: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>``; the legacy SHA-1
``X-Hub-Signature`` is not accepted. A webhook set to ``application/x-www-form-urlencoded`` sends
``payload=<url-encoded JSON>``; the signature still covers the raw body as sent.
Events: ``push``, ``pull_request`` and ``ping`` (sent when the webhook is created).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final
from urllib.parse import parse_qs

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

NAME: Final = "github"
SIGNATURE_HEADER = "X-Hub-Signature-256"
DELIVERY_HEADER = "X-GitHub-Delivery"
EVENT_HEADER = "X-GitHub-Event"
_PR_ACTIONS: dict[str, events.PullRequestAction] = {
    "opened": "opened",
    "synchronize": "synchronize",
    "reopened": "reopened",
    "closed": "closed",
}


def verify(headers: Mapping[str, str], raw_body: bytes, secret: str) -> bool:
    return matches_hex_signature(secret, raw_body, first_header(headers, SIGNATURE_HEADER), "sha256=")


def signature_problem(headers: Mapping[str, str]) -> str | None:
    """Why the request cannot be verified at all, before trying secrets (for the 401 message)."""
    if first_header(headers, SIGNATURE_HEADER):
        return None
    if first_header(headers, "X-Hub-Signature"):
        return "only a SHA-1 X-Hub-Signature was sent: set a secret on the GitHub webhook"
    return "missing X-Hub-Signature-256 header: set the application's webhook secret on the GitHub webhook"


def delivery_id(headers: Mapping[str, str], raw_body: bytes) -> str:
    return first_header(headers, DELIVERY_HEADER) or body_digest_id(raw_body)


def parse(headers: Mapping[str, str], raw_body: bytes) -> Parsed:
    event = first_header(headers, EVENT_HEADER)
    if not event:
        raise MalformedPayload(f"missing {EVENT_HEADER} header: is this a GitHub webhook?")
    doc = payload.load(_json_body(headers, raw_body))
    delivery = delivery_id(headers, raw_body)
    if event == "push":
        return _push(doc, delivery)
    if event == "pull_request":
        return _pull_request(doc, delivery)
    repo_url = _repo_url(doc) if payload.opt_obj(doc, "repository") else None
    if event == "ping":
        return Parsed(NAME, delivery, repo_url, ignored=(Ignored("ping", "ping received: the webhook works"),))
    return Parsed(
        NAME, delivery, repo_url, ignored=(Ignored("unsupported_event", f"GitHub event {event!r} deploys nothing"),)
    )


def _json_body(headers: Mapping[str, str], raw_body: bytes) -> bytes:
    content_type = (first_header(headers, "Content-Type") or "").lower()
    if "application/x-www-form-urlencoded" not in content_type and not raw_body.startswith(b"payload="):
        return raw_body
    try:
        fields = parse_qs(raw_body.decode("utf-8"), max_num_fields=100)
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedPayload("the form-encoded body cannot be read") from exc
    values = fields.get("payload")
    if not values:
        raise MalformedPayload("the form-encoded body has no 'payload' field")
    return values[0].encode("utf-8")


def _repo_url(doc: Doc) -> str:
    return payload.opt_text(doc, "repository", "clone_url") or payload.text(doc, "repository", "html_url")


def _push(doc: Doc, delivery: str) -> Parsed:
    repo_url = _repo_url(doc)

    def ignored(why: Ignored) -> Parsed:
        return Parsed(NAME, delivery, repo_url, ignored=(why,))

    target = refs.classify_ref(payload.text(doc, "ref"))
    if isinstance(target, Ignored):
        return ignored(target)
    if payload.flag(doc, "deleted") or refs.is_zero(payload.opt_text(doc, "after")):
        return ignored(refs.deleted(target))
    head = payload.opt_obj(doc, "head_commit")
    # An annotated tag's ``after`` is the tag object; ``head_commit.id`` is always the commit.
    commit = refs.commit_id(payload.text(head, "id") if head else payload.text(doc, "after"))
    message = payload.opt_text(head, "message") if head else None
    marker = refs.skip_marker(message)
    if marker:
        return ignored(refs.skipped(commit, marker))
    event = events.push(
        NAME,
        delivery,
        repo_url=repo_url,
        branch=target,
        commit=commit,
        repo_full_name=payload.opt_text(doc, "repository", "full_name"),
        commit_message=message,
        pusher=payload.opt_text(doc, "pusher", "name") or payload.opt_text(doc, "sender", "login"),
        changed_paths=events.changed_paths(payload.objects(doc, "commits")),
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
    base_repo = payload.opt_text(doc, "repository", "full_name") or payload.text(base, "repo", "full_name")
    head_repo = payload.opt_text(head, "repo", "full_name")  # null when the fork was deleted
    if head_repo is None or head_repo.lower() != base_repo.lower():
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
        repo_full_name=base_repo,
        base_branch=refs.branch_name(payload.text(base, "ref"), "base branch"),
        head_branch=refs.branch_name(payload.text(head, "ref"), "head branch"),
        commit=refs.commit_id(payload.text(head, "sha")),
    )
    return Parsed(NAME, delivery, repo_url, events=(event,))
