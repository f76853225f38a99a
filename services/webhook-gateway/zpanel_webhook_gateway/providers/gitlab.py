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

from zpanel_webhook_gateway.providers import events, payload, refs, standard_webhooks
from zpanel_webhook_gateway.providers.base import (
    Ignored,
    Parsed,
    body_digest_id,
    first_header,
    same_text,
)
from zpanel_webhook_gateway.providers.payload import Doc

NAME: Final = "gitlab"
TOKEN_HEADER = "X-Gitlab-Token"  # noqa: S105 (a header name, not a secret)
# Idempotency-Key is documented as stable across GitLab's retries; the event UUID came first.
DELIVERY_HEADERS = ("Idempotency-Key", "X-Gitlab-Event-UUID", standard_webhooks.ID_HEADER)
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


def delivery_id(headers: Mapping[str, str], raw_body: bytes) -> str:
    return first_header(headers, *DELIVERY_HEADERS) or body_digest_id(raw_body)


def parse(headers: Mapping[str, str], raw_body: bytes) -> Parsed:
    doc = payload.load(raw_body)
    delivery = delivery_id(headers, raw_body)
    kind = payload.text(doc, "object_kind")
    if kind == "push":
        return _push(doc, delivery)
    if kind == "merge_request":
        return _merge_request(doc, delivery)
    repo_url = _opt_repo_url(doc)
    if kind == "tag_push":
        ref = payload.opt_text(doc, "ref") or "a tag"
        return Parsed(NAME, delivery, repo_url, ignored=(Ignored("tag", f"{ref!r} is a tag: tags are not deployed"),))
    why = Ignored("unsupported_event", f"GitLab {kind!r} event deploys nothing")
    return Parsed(NAME, delivery, repo_url, ignored=(why,))


def _opt_repo_url(doc: Doc) -> str | None:
    return (
        payload.opt_text(doc, "project", "git_http_url")
        or payload.opt_text(doc, "repository", "git_http_url")
        or payload.opt_text(doc, "project", "web_url")
    )


def _repo_url(doc: Doc) -> str:
    return _opt_repo_url(doc) or payload.text(doc, "project", "git_http_url")


def _push(doc: Doc, delivery: str) -> Parsed:
    repo_url = _repo_url(doc)

    def ignored(why: Ignored) -> Parsed:
        return Parsed(NAME, delivery, repo_url, ignored=(why,))

    target = refs.classify_ref(payload.text(doc, "ref"))
    if isinstance(target, Ignored):
        return ignored(target)
    after = payload.opt_text(doc, "after")
    if refs.is_zero(after):
        return ignored(refs.deleted(target))
    # ``after`` of an annotated tag is the tag object; ``checkout_sha`` is the commit.
    commit = refs.commit_id(payload.opt_text(doc, "checkout_sha") or payload.text(doc, "after"))
    commits = payload.objects(doc, "commits")
    head = next((c for c in commits if str(c.get("id", "")).lower() == commit), commits[-1] if commits else None)
    message = payload.opt_text(head, "message") if head else None
    marker = refs.skip_marker(message)
    if marker:
        return ignored(refs.skipped(commit, marker))
    total = doc.get("total_commits_count")
    # GitLab lists at most 20 commits; with more, the changed files are not all known.
    complete = not (isinstance(total, int) and total > len(commits))
    event = events.push(
        NAME,
        delivery,
        repo_url=repo_url,
        branch=target,
        commit=commit,
        repo_full_name=payload.opt_text(doc, "project", "path_with_namespace"),
        commit_message=message,
        pusher=payload.opt_text(doc, "user_username") or payload.opt_text(doc, "user_name"),
        changed_paths=events.changed_paths(commits) if complete else None,
    )
    return Parsed(NAME, delivery, repo_url, events=(event,))


def _merge_request(doc: Doc, delivery: str) -> Parsed:
    repo_url = _opt_repo_url(doc) or payload.text(doc, "object_attributes", "target", "git_http_url")
    attrs = payload.obj(doc, "object_attributes")
    number = payload.integer(attrs, "iid")
    action = payload.opt_text(attrs, "action") or "update"
    # ``oldrev`` is only there when the update brought new commits (not a title or label change).
    mapped = _MR_ACTIONS.get(action) or ("synchronize" if action == "update" and attrs.get("oldrev") else None)
    if mapped is None:
        why = Ignored("unsupported_action", f"merge request !{number} {action}: previews only follow new commits")
        return Parsed(NAME, delivery, repo_url, ignored=(why,))
    source_id = payload.opt_scalar(attrs, "source_project_id")
    target_id = payload.opt_scalar(attrs, "target_project_id")
    if source_id is not None and target_id is not None and source_id != target_id:
        why = Ignored("fork", f"merge request !{number} comes from a fork: previews only build this project's branches")
        return Parsed(NAME, delivery, repo_url, ignored=(why,))
    event = events.pull_request(
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
    return Parsed(NAME, delivery, repo_url, events=(event,))
