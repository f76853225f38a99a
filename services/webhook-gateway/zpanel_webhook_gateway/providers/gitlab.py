"""GitLab (gitlab.com and self-managed) webhooks.

Authentication: ``X-Gitlab-Token`` carries the secret itself; GitLab's newer signing token
(a ``whsec_…`` secret) instead signs each request the Standard Webhooks way (``webhook-id``,
``webhook-timestamp``, ``webhook-signature``). A Zpanel secret in ``whsec_`` form works as either,
so one secret serves both. Events (by the body's ``object_kind``; system hooks send the same
bodies under ``X-Gitlab-Event: System Hook``): ``push``, ``tag_push``, ``merge_request``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from zpanel_webhook_gateway.providers import events, payload, reasons, refs, standard_webhooks
from zpanel_webhook_gateway.providers.base import Ignored, Parsed, TriggerEvent, first_header, same_text
from zpanel_webhook_gateway.providers.payload import Doc
from zpanel_webhook_gateway.providers.wire import Wire

NAME: Final = "gitlab"
TOKEN_HEADER = "X-Gitlab-Token"  # noqa: S105 (a header name, not a secret)
# Idempotency-Key is documented as stable across GitLab's retries; the event UUID came first.
# The event is the body's ``object_kind``: GitLab names it in no header.
WIRE = Wire(NAME, "GitLab", delivery_headers=("Idempotency-Key", "X-Gitlab-Event-UUID", standard_webhooks.ID_HEADER))
_MR_ACTIONS: dict[str, events.PullRequestAction] = {
    "open": "opened",
    "reopen": "reopened",
    "close": "closed",
    "merge": "closed",
}


def verify(headers: Mapping[str, str], raw_body: bytes, secret: str, now: float | None = None) -> bool:
    if not secret:
        return False
    if standard_webhooks.is_signed(headers) and secret.startswith(standard_webhooks.SECRET_PREFIX):
        return standard_webhooks.verify(headers, raw_body, secret, now)
    token = first_header(headers, TOKEN_HEADER)
    return bool(token) and same_text(secret, token or "")


def signature_problem(headers: Mapping[str, str]) -> str | None:
    if first_header(headers, TOKEN_HEADER) or standard_webhooks.is_signed(headers):
        return None
    return "missing X-Gitlab-Token header: set the application's webhook secret as the GitLab webhook's secret token"


delivery_id = WIRE.delivery_id


def parse(headers: Mapping[str, str], raw_body: bytes) -> Parsed:
    doc = payload.load(raw_body)
    delivery = delivery_id(headers, raw_body)
    kind = payload.text(doc, "object_kind")
    if kind == "push":
        url = _repo_url(doc)
        return WIRE.parsed(delivery, url, _push(doc, delivery, url))
    if kind == "merge_request":
        url = _opt_repo_url(doc) or payload.text(doc, "object_attributes", "target", "git_http_url")
        return WIRE.parsed(delivery, url, _merge_request(doc, delivery, url))
    repo_url = _opt_repo_url(doc)  # events that deploy nothing name their project when they have one
    if kind == "tag_push":
        return WIRE.parsed(delivery, repo_url, reasons.tag(payload.opt_text(doc, "ref") or "a tag"))
    return WIRE.parsed(delivery, repo_url, Ignored("unsupported_event", f"GitLab {kind!r} event deploys nothing"))


def _opt_repo_url(doc: Doc) -> str | None:
    return (
        payload.opt_text(doc, "project", "git_http_url")
        or payload.opt_text(doc, "repository", "git_http_url")
        or payload.opt_text(doc, "project", "web_url")
    )


def _repo_url(doc: Doc) -> str:
    return _opt_repo_url(doc) or payload.text(doc, "project", "git_http_url")


def _push(doc: Doc, delivery: str, repo_url: str) -> TriggerEvent | Ignored:
    target = refs.pushed_branch(doc)
    if isinstance(target, Ignored):
        return target
    # ``after`` of an annotated tag is the tag object; ``checkout_sha`` is the commit.
    commit = refs.commit_id(payload.opt_text(doc, "checkout_sha") or payload.text(doc, "after"))
    commits = payload.objects(doc, "commits")
    head = next((c for c in commits if str(c.get("id", "")).lower() == commit), commits[-1] if commits else None)
    message = payload.opt_text(head, "message") if head else None
    if skip := refs.skipped(commit, message):
        return skip
    return events.push(
        NAME,
        delivery,
        repo_url=repo_url,
        branch=target,
        commit=commit,
        repo_full_name=payload.opt_text(doc, "project", "path_with_namespace"),
        commit_message=message,
        pusher=payload.opt_text(doc, "user_username") or payload.opt_text(doc, "user_name"),
        changed_paths=events.changed_paths(commits, doc.get("total_commits_count")),
    )


def _merge_request(doc: Doc, delivery: str, repo_url: str) -> TriggerEvent | Ignored:
    attrs = payload.obj(doc, "object_attributes")
    number = payload.integer(attrs, "iid")
    action = payload.opt_text(attrs, "action") or "update"
    # ``oldrev`` is only there when the update brought new commits (not a title or label change).
    mapped = _MR_ACTIONS.get(action) or ("synchronize" if action == "update" and attrs.get("oldrev") else None)
    if mapped is None:
        return reasons.unsupported_action(f"merge request !{number}", action)
    source_id = payload.opt_scalar(attrs, "source_project_id")
    target_id = payload.opt_scalar(attrs, "target_project_id")
    if source_id is not None and target_id is not None and source_id != target_id:
        return reasons.fork(f"merge request !{number}", "project")
    return events.pull_request(
        NAME,
        delivery,
        action=mapped,
        number=number,
        repo_url=repo_url,
        repo_full_name=payload.opt_text(doc, "project", "path_with_namespace"),
        base_branch=refs.branch_name(payload.text(attrs, "target_branch"), "target branch"),
        head_branch=refs.branch_name(payload.text(attrs, "source_branch"), "source branch"),
        commit=refs.commit_id(payload.text(attrs, "last_commit", "id")),
    )
