"""Bitbucket Cloud webhooks.

Signature: ``X-Hub-Signature: sha256=<hex HMAC-SHA256 of the raw body>``; ``sha1=`` is refused.
Events (``X-Event-Key``): ``repo:push`` and ``pullrequest:created|updated|fulfilled|rejected``.
What real deliveries teach: a push carries no clone URL (the repository is named by
``full_name`` and ``links.html``), one push may change several refs (``push.changes``), and
pull requests name their head commit by a 12-character abbreviated hash.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from zpanel_webhook_gateway.providers import events, payload, refs
from zpanel_webhook_gateway.providers.base import (
    Ignored,
    MalformedPayload,
    Parsed,
    TriggerEvent,
    body_digest_id,
    first_header,
    matches_hex_signature,
)
from zpanel_webhook_gateway.providers.payload import Doc

NAME: Final = "bitbucket"
SIGNATURE_HEADER = "X-Hub-Signature"
DELIVERY_HEADER = "X-Request-UUID"
EVENT_HEADER = "X-Event-Key"
WEB_BASE = "https://bitbucket.org/"
_PR_ACTIONS: dict[str, events.PullRequestAction] = {
    "pullrequest:created": "opened",
    "pullrequest:updated": "synchronize",
    "pullrequest:fulfilled": "closed",
    "pullrequest:rejected": "closed",
}


def verify(headers: Mapping[str, str], raw_body: bytes, secret: str) -> bool:
    return matches_hex_signature(secret, raw_body, first_header(headers, SIGNATURE_HEADER), "sha256=")


def signature_problem(headers: Mapping[str, str]) -> str | None:
    given = first_header(headers, SIGNATURE_HEADER)
    if given is None:
        return "missing X-Hub-Signature header: set the application's webhook secret on the Bitbucket webhook"
    if not given.startswith("sha256="):
        return "X-Hub-Signature is not sha256=…: only HMAC-SHA256 signatures are accepted"
    return None


def delivery_id(headers: Mapping[str, str], raw_body: bytes) -> str:
    return first_header(headers, DELIVERY_HEADER) or body_digest_id(raw_body)


def parse(headers: Mapping[str, str], raw_body: bytes) -> Parsed:
    key = first_header(headers, EVENT_HEADER)
    if not key:
        raise MalformedPayload(f"missing {EVENT_HEADER} header: is this a Bitbucket webhook?")
    doc = payload.load(raw_body)
    delivery = delivery_id(headers, raw_body)
    if key == "repo:push":
        return _push(doc, delivery)
    if key in _PR_ACTIONS:
        return _pull_request(doc, delivery, _PR_ACTIONS[key])
    repo_url = _repo_url(doc) if payload.opt_obj(doc, "repository") else None
    why = Ignored("unsupported_event", f"Bitbucket event {key!r} deploys nothing")
    return Parsed(NAME, delivery, repo_url, ignored=(why,))


def _repo_url(doc: Doc) -> str:
    href = payload.opt_text(doc, "repository", "links", "html", "href")
    return href or WEB_BASE + payload.text(doc, "repository", "full_name")


def _push(doc: Doc, delivery: str) -> Parsed:
    repo_url = _repo_url(doc)
    changes = payload.objects(doc, "push", "changes")
    if not changes:
        raise MalformedPayload("field 'push.changes' is empty: a push changes at least one ref")
    pusher = payload.opt_text(doc, "actor", "nickname") or payload.opt_text(doc, "actor", "display_name")
    found: list[TriggerEvent] = []
    ignored: list[Ignored] = []
    for change in changes:
        outcome = _change(change, doc, delivery, repo_url, pusher)
        if isinstance(outcome, Ignored):
            ignored.append(outcome)
        else:
            found.append(outcome)
    return Parsed(NAME, delivery, repo_url, events=tuple(found), ignored=tuple(ignored))


def _change(change: Doc, doc: Doc, delivery: str, repo_url: str, pusher: str | None) -> TriggerEvent | Ignored:
    new = payload.opt_obj(change, "new")
    ref = new or payload.obj(change, "old")  # a deletion has only ``old``
    name = payload.text(ref, "name")
    kind = payload.text(ref, "type")
    if kind in ("tag", "annotated_tag"):
        return Ignored("tag", f"{name!r} is a tag: tags are not deployed")
    if kind != "branch":
        return Ignored("not_a_branch", f"{kind} {name!r} is not a branch")
    branch = refs.branch_name(name)
    if new is None:
        return refs.deleted(branch)
    commit = refs.commit_id(payload.text(new, "target", "hash"))
    message = payload.opt_text(new, "target", "message")
    marker = refs.skip_marker(message)
    if marker:
        return refs.skipped(commit, marker)
    return events.push(
        NAME,
        delivery,
        repo_url=repo_url,
        branch=branch,
        commit=commit,
        repo_full_name=payload.opt_text(doc, "repository", "full_name"),
        commit_message=message,
        pusher=pusher,
        changed_paths=None,  # Bitbucket lists no files in a push
    )


def _pull_request(doc: Doc, delivery: str, action: events.PullRequestAction) -> Parsed:
    repo_url = _repo_url(doc)
    pr = payload.obj(doc, "pullrequest")
    number = payload.integer(pr, "id")
    source_repo = payload.opt_text(pr, "source", "repository", "full_name")
    target_repo = payload.opt_text(pr, "destination", "repository", "full_name") or payload.text(
        doc, "repository", "full_name"
    )
    if source_repo is None or source_repo.lower() != target_repo.lower():
        why = Ignored(
            "fork", f"pull request #{number} comes from a fork: previews only build this repository's branches"
        )
        return Parsed(NAME, delivery, repo_url, ignored=(why,))
    event = events.pull_request(
        NAME,
        delivery,
        action=action,
        number=number,
        repo_url=repo_url,
        repo_full_name=target_repo,
        base_branch=refs.branch_name(payload.text(pr, "destination", "branch", "name"), "destination branch"),
        head_branch=refs.branch_name(payload.text(pr, "source", "branch", "name"), "source branch"),
        # 12 hex characters: the builder resolves it against the fetched head branch.
        commit=refs.commit_id(payload.text(pr, "source", "commit", "hash")),
    )
    return Parsed(NAME, delivery, repo_url, events=(event,))
