"""Gitea/Forgejo: the hex signature, the example of Gitea's webhook docs and real deliveries kept
in go-scm's test data."""

from __future__ import annotations

import json

import pytest

from tests.gateway.helpers import SECRET, body, gitea_headers, hex_hmac
from zpanel.events import PullRequestReceived, PushReceived
from zpanel_webhook_gateway.providers import MalformedPayload, gitea


def test_hex_signature_verifies() -> None:
    raw = body("gitea", "push.json")
    assert gitea.verify(gitea_headers(raw, "push"), raw, SECRET) is True


def test_forgejo_signature_header_verifies() -> None:
    raw = body("gitea", "push.json")
    assert gitea.verify({"X-Forgejo-Signature": hex_hmac(SECRET, raw)}, raw, SECRET) is True


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Gitea-Signature": ""},
        {"X-Gitea-Signature": "   "},
        {},
        {"X-Gitea-Signature": "sha256=" + hex_hmac(SECRET, b"{}")},
        {"X-Gitea-Signature": hex_hmac("other", b"{}")},
    ],
)
def test_empty_missing_or_wrong_signatures_are_rejected(headers: dict[str, str]) -> None:
    assert gitea.verify(headers, b"{}", SECRET) is False


def test_docs_push_example_becomes_push_received() -> None:
    raw = body("gitea", "push.json")
    parsed = gitea.parse(gitea_headers(raw, "push", delivery="f6266f16-1bf3-46a5-9ea4-602e06ead473"), raw)
    (event,) = parsed.events
    assert isinstance(event, PushReceived)
    assert (event.provider, event.repo_url, event.repo_full_name, event.branch, event.commit) == (
        "gitea",
        "http://localhost:3000/gitea/webhooks.git",
        "gitea/webhooks",
        "develop",
        "bffeb74224043ba2feb48d137756c8a9331c449a",
    )
    assert (event.commit_message, event.pusher, event.delivery_id) == (
        "Webhooks Yay!",
        "gitea",
        "f6266f16-1bf3-46a5-9ea4-602e06ead473",
    )
    assert event.changed_paths is None  # the docs example lists no files


def test_real_push_lists_changed_paths() -> None:
    raw = body("gitea", "go-scm.push.json")
    (event,) = gitea.parse(gitea_headers(raw, "push"), raw).events
    assert (event.commit, event.changed_paths) == ("4522cbcefc20728a5b72b3a86af35e608622c514", ["README.md"])


def test_all_zero_after_is_a_branch_deletion() -> None:
    doc = json.loads(body("gitea", "push.json"))
    doc["after"] = "0" * 40
    doc["commits"] = []
    raw = json.dumps(doc).encode()
    (why,) = gitea.parse(gitea_headers(raw, "push"), raw).ignored
    assert (why.kind, why.reason) == ("branch_deleted", "branch 'develop' was deleted: nothing to deploy")


@pytest.mark.parametrize(
    ("fixture", "event", "kind"),
    [
        ("go-scm.branch_delete.json", "delete", "branch_deleted"),
        ("go-scm.tag_create.json", "create", "not_a_branch"),
        ("go-scm.pull_request_edited.json", "pull_request", "unsupported_action"),
        ("push.json", "issues", "unsupported_event"),
    ],
)
def test_ignored_with_a_reason(fixture: str, event: str, kind: str) -> None:
    raw = body("gitea", fixture)
    parsed = gitea.parse(gitea_headers(raw, event), raw)
    assert (parsed.events, [i.kind for i in parsed.ignored]) == ((), [kind])
    assert parsed.repo_url is not None


@pytest.mark.parametrize(
    ("fixture", "action"),
    [
        ("go-scm.pull_request_opened.json", "opened"),
        ("go-scm.pull_request_synchronized.json", "synchronize"),
        ("go-scm.pull_request_reopened.json", "reopened"),
        ("go-scm.pull_request_closed.json", "closed"),
        ("go-scm.pull_request_merged.json", "closed"),
    ],
)
def test_pull_requests(fixture: str, action: str) -> None:
    raw = body("gitea", fixture)
    (event,) = gitea.parse(gitea_headers(raw, "pull_request"), raw).events
    assert isinstance(event, PullRequestReceived)
    assert (event.action, event.number, event.head_branch, event.base_branch, event.commit, event.repo_url) == (
        action,
        1,
        "feature",
        "master",
        "2eba238e33607c1fa49253182e9fff42baafa1eb",
        "https://try.gitea.io/jcitizen/my-repo.git",
    )


def test_pull_request_from_a_fork_is_ignored() -> None:
    doc = json.loads(body("gitea", "go-scm.pull_request_opened.json"))
    doc["pull_request"]["head"]["repo_id"] = 1
    raw = json.dumps(doc).encode()
    (why,) = gitea.parse(gitea_headers(raw, "pull_request"), raw).ignored
    assert why.kind == "fork"


def test_missing_event_header_is_malformed() -> None:
    with pytest.raises(MalformedPayload, match="X-Gitea-Event"):
        gitea.parse({}, body("gitea", "push.json"))
