"""GitHub (and GitHub Enterprise Server) webhooks.

Signature: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body>``; the legacy SHA-1
``X-Hub-Signature`` is not accepted. A webhook set to ``application/x-www-form-urlencoded`` sends
``payload=<url-encoded JSON>``; the signature still covers the raw body as sent.
Events: ``push``, ``pull_request`` and ``ping`` (sent when the webhook is created).
Gitea copies these payloads, so it reuses :func:`repo_url` and the pull request helpers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from typing import Final
from urllib.parse import parse_qs

from zpanel_webhook_gateway.providers import events, payload, reasons, refs
from zpanel_webhook_gateway.providers.base import Ignored, MalformedPayload, Parsed, TriggerEvent, first_header
from zpanel_webhook_gateway.providers.payload import Doc
from zpanel_webhook_gateway.providers.wire import Handler, HexSignature, Wire

NAME: Final = "github"
WIRE = Wire(NAME, "GitHub", delivery_headers=("X-GitHub-Delivery",), event_headers=("X-GitHub-Event",))
SIGNATURE = HexSignature(("X-Hub-Signature-256",), prefix="sha256=")
_PR_ACTIONS: dict[str, events.PullRequestAction] = {
    "opened": "opened",
    "synchronize": "synchronize",
    "reopened": "reopened",
    "closed": "closed",
}

verify = SIGNATURE.verify
delivery_id = WIRE.delivery_id


def signature_problem(headers: Mapping[str, str]) -> str | None:
    """Why the request cannot be verified at all, before trying secrets (for the 401 message)."""
    if SIGNATURE.given(headers):
        return None
    if first_header(headers, "X-Hub-Signature"):
        return "only a SHA-1 X-Hub-Signature was sent: set a secret on the GitHub webhook"
    return "missing X-Hub-Signature-256 header: set the application's webhook secret on the GitHub webhook"


def parse(headers: Mapping[str, str], raw_body: bytes) -> Parsed:
    event = WIRE.event(headers)
    doc = payload.load(_json_body(headers, raw_body))
    return WIRE.route(event, doc, delivery_id(headers, raw_body), _HANDLERS, repo_url, _other)


def repo_url(doc: Doc) -> str:
    return payload.opt_text(doc, "repository", "clone_url") or payload.text(doc, "repository", "html_url")


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


def _push(doc: Doc, delivery: str, repo_url: str) -> TriggerEvent | Ignored:
    target = refs.pushed_branch(doc, deleted_flag=True)
    if isinstance(target, Ignored):
        return target
    head = payload.opt_obj(doc, "head_commit")
    # An annotated tag's ``after`` is the tag object; ``head_commit.id`` is always the commit.
    commit = refs.commit_id(payload.text(head, "id") if head else payload.text(doc, "after"))
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
        pusher=payload.opt_text(doc, "pusher", "name") or payload.opt_text(doc, "sender", "login"),
        changed_paths=events.changed_paths(payload.objects(doc, "commits")),
    )


Origin = Callable[[Doc, Doc, Doc], tuple[bool, str | None]]
"""(payload, head, base) -> (is the head branch in the base repository, its full name)."""


def pull_request(
    provider: events.ProviderName,
    doc: Doc,
    delivery: str,
    repo_url: str,
    *,
    actions: Mapping[str, events.PullRequestAction],
    origin: Origin,
) -> TriggerEvent | Ignored:
    """A ``pull_request`` payload as GitHub (and Gitea after it) sends it. ``actions`` maps the
    provider's actions to ours; ``origin`` says whether the head branch is in the base repository."""
    action = payload.text(doc, "action")
    number = payload.integer(doc, "number")
    mapped = actions.get(action)
    if mapped is None:
        return reasons.unsupported_action(f"pull request #{number}", action)
    head = payload.obj(doc, "pull_request", "head")
    base = payload.obj(doc, "pull_request", "base")
    own, base_repo = origin(doc, head, base)
    if not own:
        return reasons.fork(f"pull request #{number}")
    return events.pull_request(
        provider,
        delivery,
        action=mapped,
        number=number,
        repo_url=repo_url,
        repo_full_name=base_repo,
        base_branch=refs.branch_name(payload.text(base, "ref"), "base branch"),
        head_branch=refs.branch_name(payload.text(head, "ref"), "head branch"),
        commit=refs.commit_id(payload.text(head, "sha")),
    )


def _origin(doc: Doc, head: Doc, base: Doc) -> tuple[bool, str | None]:
    base_repo = payload.opt_text(doc, "repository", "full_name") or payload.text(base, "repo", "full_name")
    head_repo = payload.opt_text(head, "repo", "full_name")  # null when the fork was deleted
    return head_repo is not None and head_repo.lower() == base_repo.lower(), base_repo


def _other(event: str, doc: Doc) -> Ignored:
    return Ignored("ping", "ping received: the webhook works") if event == "ping" else WIRE.unsupported(event)


_HANDLERS: dict[str, Handler] = {
    "push": _push,
    "pull_request": partial(pull_request, NAME, actions=_PR_ACTIONS, origin=_origin),
}
