"""GitHub: signatures (incl. GitHub's documented test vector) and the octokit example payloads."""

from __future__ import annotations

import hashlib
import json
from urllib.parse import quote_plus

import pytest

from tests.gateway.helpers import SECRET, body, github_headers
from zpanel.events import PullRequestReceived, PushReceived
from zpanel_webhook_gateway.idempotency import event_id_for
from zpanel_webhook_gateway.providers import MalformedPayload, github

# https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries#testing-the-webhook-payload-validation
VECTOR_SECRET = "It's a Secret to Everybody"
VECTOR_BODY = b"Hello, World!"
VECTOR_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def test_verify_accepts_githubs_documented_test_vector() -> None:
    assert github.verify({"X-Hub-Signature-256": VECTOR_SIGNATURE}, VECTOR_BODY, VECTOR_SECRET) is True


def test_verify_reads_the_header_whatever_its_case() -> None:
    assert github.verify({"x-hub-signature-256": VECTOR_SIGNATURE}, VECTOR_BODY, VECTOR_SECRET) is True


@pytest.mark.parametrize(
    ("headers", "raw", "secret"),
    [
        ({"X-Hub-Signature-256": VECTOR_SIGNATURE}, VECTOR_BODY, "It's a secret to everybody"),  # wrong secret
        ({"X-Hub-Signature-256": VECTOR_SIGNATURE}, b"Hello, World?", VECTOR_SECRET),  # tampered body
        ({"X-Hub-Signature-256": VECTOR_SIGNATURE[7:]}, VECTOR_BODY, VECTOR_SECRET),  # no sha256= prefix
        ({"X-Hub-Signature-256": "sha1=" + VECTOR_SIGNATURE[7:]}, VECTOR_BODY, VECTOR_SECRET),
        ({"X-Hub-Signature-256": "sha256="}, VECTOR_BODY, VECTOR_SECRET),
        ({"X-Hub-Signature-256": "sha256=ü" + VECTOR_SIGNATURE[8:]}, VECTOR_BODY, VECTOR_SECRET),  # non-ASCII
        ({"X-Hub-Signature": VECTOR_SIGNATURE}, VECTOR_BODY, VECTOR_SECRET),  # the legacy header
        ({}, VECTOR_BODY, VECTOR_SECRET),
        ({"X-Hub-Signature-256": VECTOR_SIGNATURE}, VECTOR_BODY, ""),  # an app without a secret
    ],
)
def test_verify_rejects(headers: dict[str, str], raw: bytes, secret: str) -> None:
    assert github.verify(headers, raw, secret) is False


def test_signature_problem_names_the_missing_header() -> None:
    assert github.signature_problem({"X-Hub-Signature-256": VECTOR_SIGNATURE}) is None
    assert "X-Hub-Signature-256" in (github.signature_problem({}) or "")
    assert "SHA-1" in (github.signature_problem({"X-Hub-Signature": "sha1=00"}) or "")


def test_push_to_a_branch_becomes_push_received() -> None:
    raw = body("github", "push.json")
    parsed = github.parse(github_headers(raw, "push", delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958"), raw)
    assert parsed.ignored == ()
    assert parsed.repo_url == "https://github.com/Codertocat/Hello-World.git"
    (event,) = parsed.events
    assert isinstance(event, PushReceived)
    assert event.model_dump(exclude={"timestamp"}) == {
        "type": "push.received",
        "version": 1,
        "event_id": event_id_for("github", "72d3162e-cc78-11e3-81ab-4c9367dc0958", "push\nmaster"),
        "deployment_id": None,
        "app_id": None,
        "server_id": None,
        "provider": "github",
        "repo_url": "https://github.com/Codertocat/Hello-World.git",
        "branch": "master",
        "commit": "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
        "repo_full_name": "Codertocat/Hello-World",
        "commit_message": "Initial commit",
        "pusher": "Codertocat",
        "delivery_id": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        "changed_paths": ["README.md"],
    }


def test_a_redelivery_parses_to_the_same_event_id() -> None:
    raw = body("github", "push.json")
    first = github.parse(github_headers(raw, "push", delivery="abc"), raw).events[0]
    again = github.parse(github_headers(raw, "push", delivery="abc"), raw).events[0]
    other = github.parse(github_headers(raw, "push", delivery="abd"), raw).events[0]
    assert first.event_id == again.event_id != other.event_id


def test_form_encoded_push_is_read_from_its_payload_field_and_signed_over_the_raw_body() -> None:
    doc = body("github", "push.json")
    raw = b"payload=" + quote_plus(doc.decode()).encode()
    headers = github_headers(raw, "push") | {"Content-Type": "application/x-www-form-urlencoded"}
    assert github.verify(headers, raw, SECRET) is True
    assert github.verify(github_headers(doc, "push"), raw, SECRET) is False
    assert github.parse(headers, raw).events[0].commit == "6113728f27ae82c7b1a177c8d03f9e96e0adf246"


def test_form_encoded_body_without_payload_field_is_malformed() -> None:
    raw = b"other=1"
    with pytest.raises(MalformedPayload, match="no 'payload' field"):
        github.parse({"X-GitHub-Event": "push", "Content-Type": "application/x-www-form-urlencoded"}, raw)


@pytest.mark.parametrize(
    ("fixture", "kind", "reason"),
    [
        ("push.tag.json", "tag", "'refs/tags/simple-tag' is a tag: tags are not deployed"),
        ("push.tag-deleted.json", "tag", "'refs/tags/simple-tag' is a tag: tags are not deployed"),
    ],
)
def test_tag_pushes_are_ignored_with_a_reason(fixture: str, kind: str, reason: str) -> None:
    raw = body("github", fixture)
    parsed = github.parse(github_headers(raw, "push"), raw)
    assert parsed.events == ()
    assert [(i.kind, i.reason) for i in parsed.ignored] == [(kind, reason)]
    assert parsed.repo_url == "https://github.com/Codertocat/Hello-World.git"


def test_branch_deletion_is_ignored() -> None:
    # The octokit deletion examples are tags; a branch deletion is the same payload on refs/heads/.
    doc = json.loads(body("github", "push.tag-deleted.json"))
    doc["ref"] = "refs/heads/feature"
    raw = json.dumps(doc).encode()
    parsed = github.parse(github_headers(raw, "push"), raw)
    assert [(i.kind, i.reason) for i in parsed.ignored] == [
        ("branch_deleted", "branch 'feature' was deleted: nothing to deploy")
    ]


@pytest.mark.parametrize("marker", ["[skip ci]", "[ci skip]", "[Skip Deploy]", "[no ci]"])
def test_skip_markers_in_the_head_commit_message_are_honoured(marker: str) -> None:
    doc = json.loads(body("github", "push.json"))
    doc["head_commit"]["message"] = f"Update docs {marker}"
    raw = json.dumps(doc).encode()
    (why,) = github.parse(github_headers(raw, "push"), raw).ignored
    assert (why.kind, why.reason) == ("skip_marker", f"head commit 6113728f27ae says {marker}: not deployed")


def test_ping_is_ignored_but_names_its_repository_for_verification() -> None:
    raw = body("github", "ping.json")
    parsed = github.parse(github_headers(raw, "ping"), raw)
    assert parsed.events == ()
    assert [i.kind for i in parsed.ignored] == ["ping"]
    assert parsed.repo_url == "https://github.com/Octocoders/Hello-World.git"


def test_organisation_ping_names_no_repository() -> None:
    raw = body("github", "ping.organization.json")
    parsed = github.parse(github_headers(raw, "ping"), raw)
    assert (parsed.repo_url, [i.kind for i in parsed.ignored]) == (None, ["ping"])


@pytest.mark.parametrize(
    ("fixture", "action"),
    [
        ("pull_request.opened.json", "opened"),
        ("pull_request.synchronize.json", "synchronize"),
        ("pull_request.reopened.json", "reopened"),
        ("pull_request.closed.json", "closed"),
    ],
)
def test_pull_requests_become_pull_request_received(fixture: str, action: str) -> None:
    raw = body("github", fixture)
    (event,) = github.parse(github_headers(raw, "pull_request", delivery="pr-1"), raw).events
    assert isinstance(event, PullRequestReceived)
    assert (event.action, event.number, event.base_branch, event.head_branch, event.commit) == (
        action,
        2,
        "master",
        "changes",
        "ec26c3e57ca3a959ca5aad62de7213c562f8c821",
    )
    assert (event.provider, event.repo_url, event.repo_full_name, event.delivery_id) == (
        "github",
        "https://github.com/Codertocat/Hello-World.git",
        "Codertocat/Hello-World",
        "pr-1",
    )


def test_other_pull_request_actions_are_ignored() -> None:
    raw = body("github", "pull_request.labeled.json")
    (why,) = github.parse(github_headers(raw, "pull_request"), raw).ignored
    assert (why.kind, why.reason) == ("unsupported_action", "pull request #2 labeled: previews only follow new commits")


def test_pull_request_from_a_fork_is_ignored() -> None:
    doc = json.loads(body("github", "pull_request.opened.json"))
    doc["pull_request"]["head"]["repo"]["full_name"] = "mallory/Hello-World"
    raw = json.dumps(doc).encode()
    (why,) = github.parse(github_headers(raw, "pull_request"), raw).ignored
    assert why.kind == "fork"


def test_unknown_events_are_ignored() -> None:
    raw = body("github", "ping.json")
    (why,) = github.parse(github_headers(raw, "star"), raw).ignored
    assert (why.kind, why.reason) == ("unsupported_event", "GitHub event 'star' deploys nothing")


def test_delivery_id_falls_back_to_a_digest_of_the_body() -> None:
    assert github.delivery_id({"X-GitHub-Delivery": "abc"}, b"{}") == "abc"
    assert github.delivery_id({}, b"{}") == "sha256-" + hashlib.sha256(b"{}").hexdigest()


@pytest.mark.parametrize(
    ("headers", "raw", "message"),
    [
        ({}, b"{}", "missing X-GitHub-Event header"),
        ({"X-GitHub-Event": "push"}, b"", "the request body is empty"),
        ({"X-GitHub-Event": "push"}, b"[1]", "must be a JSON object"),
        ({"X-GitHub-Event": "push"}, b'{"ref": "refs/heads/main"}', "field 'repository' is missing"),
        (
            {"X-GitHub-Event": "push"},
            b'{"ref": "refs/heads/main", "after": "xyz", "repository": {"clone_url": "https://h/o/r"}}',
            "'xyz' is not a git commit id",
        ),
        (
            {"X-GitHub-Event": "push"},
            b'{"ref": "refs/heads/-x", "after": "abcdef1", "repository": {"clone_url": "https://h/o/r"}}',
            "'-x' is not a valid git branch name",
        ),
    ],
)
def test_malformed_payloads_raise_malformed_payload(headers: dict[str, str], raw: bytes, message: str) -> None:
    with pytest.raises(MalformedPayload, match=message):
        github.parse(headers, raw)
