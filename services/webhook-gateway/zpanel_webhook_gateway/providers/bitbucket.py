"""Bitbucket Cloud webhooks.

Signature: ``X-Hub-Signature: sha256=<hex HMAC-SHA256 of the raw body>``; ``sha1=`` is refused.
Events (``X-Event-Key``): ``repo:push`` and ``pullrequest:created|updated|fulfilled|rejected``.
What real deliveries teach: a push carries no clone URL (the repository is named by
``full_name`` and ``links.html``), one push may change several refs (``push.changes``), and
pull requests name their head commit by a 12-character abbreviated hash.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Final

from zpanel_webhook_gateway.providers import events, payload, reasons, refs
from zpanel_webhook_gateway.providers.base import Ignored, MalformedPayload, Parsed, TriggerEvent
from zpanel_webhook_gateway.providers.payload import Doc
from zpanel_webhook_gateway.providers.wire import Handler, HexSignature, Wire

NAME: Final = "bitbucket"
WIRE = Wire(NAME, "Bitbucket", delivery_headers=("X-Request-UUID",), event_headers=("X-Event-Key",))
SIGNATURE = HexSignature(("X-Hub-Signature",), prefix="sha256=")
WEB_BASE = "https://bitbucket.org/"

verify = SIGNATURE.verify
delivery_id = WIRE.delivery_id


def signature_problem(headers: Mapping[str, str]) -> str | None:
    given = SIGNATURE.given(headers)
    if given is None:
        return "missing X-Hub-Signature header: set the application's webhook secret on the Bitbucket webhook"
    if not given.startswith("sha256="):
        return "X-Hub-Signature is not sha256=…: only HMAC-SHA256 signatures are accepted"
    return None


def parse(headers: Mapping[str, str], raw_body: bytes) -> Parsed:
    key = WIRE.event(headers)
    doc = payload.load(raw_body)
    return WIRE.route(key, doc, delivery_id(headers, raw_body), _HANDLERS, _repo_url, _other)


def _repo_url(doc: Doc) -> str:
    href = payload.opt_text(doc, "repository", "links", "html", "href")
    return href or WEB_BASE + payload.text(doc, "repository", "full_name")


def _push(doc: Doc, delivery: str, repo_url: str) -> list[TriggerEvent | Ignored]:
    changes = payload.objects(doc, "push", "changes")
    if not changes:
        raise MalformedPayload("field 'push.changes' is empty: a push changes at least one ref")
    pusher = payload.opt_text(doc, "actor", "nickname") or payload.opt_text(doc, "actor", "display_name")
    return [_change(change, doc, delivery, repo_url, pusher) for change in changes]


def _change(change: Doc, doc: Doc, delivery: str, repo_url: str, pusher: str | None) -> TriggerEvent | Ignored:
    new = payload.opt_obj(change, "new")
    ref = new or payload.obj(change, "old")  # a deletion has only ``old``
    name = payload.text(ref, "name")
    kind = payload.text(ref, "type")
    if kind in ("tag", "annotated_tag"):
        return reasons.tag(name)
    if kind != "branch":
        return Ignored("not_a_branch", f"{kind} {name!r} is not a branch")
    branch = refs.branch_name(name)
    if new is None:
        return refs.deleted(branch)
    commit = refs.commit_id(payload.text(new, "target", "hash"))
    message = payload.opt_text(new, "target", "message")
    if skip := refs.skipped(commit, message):
        return skip
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


_PR_ACTIONS: dict[str, events.PullRequestAction] = {
    "pullrequest:created": "opened",
    "pullrequest:updated": "synchronize",
    "pullrequest:fulfilled": "closed",
    "pullrequest:rejected": "closed",
}


def _pull_request(
    doc: Doc, delivery: str, repo_url: str, *, action: events.PullRequestAction
) -> TriggerEvent | Ignored:
    pr = payload.obj(doc, "pullrequest")
    number = payload.integer(pr, "id")
    source_repo = payload.opt_text(pr, "source", "repository", "full_name")
    target_repo = payload.opt_text(pr, "destination", "repository", "full_name") or payload.text(
        doc, "repository", "full_name"
    )
    if source_repo is None or source_repo.lower() != target_repo.lower():
        return reasons.fork(f"pull request #{number}")
    return events.pull_request(
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


def _other(key: str, doc: Doc) -> Ignored:
    return WIRE.unsupported(key)


_HANDLERS: dict[str, Handler] = {
    "repo:push": _push,
    **{key: partial(_pull_request, action=action) for key, action in _PR_ACTIONS.items()},
}
