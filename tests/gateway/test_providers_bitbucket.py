"""Bitbucket Cloud: sha256-only signatures and real deliveries kept in go-scm's test data."""

from __future__ import annotations

import json

import pytest

from tests.gateway.helpers import SECRET, bitbucket_headers, body, hex_hmac
from zpanel.events import PullRequestReceived, PushReceived
from zpanel_webhook_gateway.providers import MalformedPayload, bitbucket


def test_sha256_signature_verifies() -> None:
    raw = body("bitbucket", "go-scm.push.json")
    assert bitbucket.verify(bitbucket_headers(raw, "repo:push"), raw, SECRET) is True


def test_sha1_signature_is_refused_even_when_correct() -> None:
    import hashlib
    import hmac

    raw = body("bitbucket", "go-scm.push.json")
    sha1 = "sha1=" + hmac.new(SECRET.encode(), raw, hashlib.sha1).hexdigest()
    assert bitbucket.verify({"X-Hub-Signature": sha1}, raw, SECRET) is False
    assert "only HMAC-SHA256" in (bitbucket.signature_problem({"X-Hub-Signature": sha1}) or "")


@pytest.mark.parametrize("signature", ["sha256=" + hex_hmac("other", b"{}"), hex_hmac(SECRET, b"{}"), "sha256=", ""])
def test_wrong_signatures_are_rejected(signature: str) -> None:
    assert bitbucket.verify({"X-Hub-Signature": signature}, b"{}", SECRET) is False


def test_push_has_no_clone_url_and_is_named_by_its_web_link() -> None:
    raw = body("bitbucket", "go-scm.push.json")
    parsed = bitbucket.parse(bitbucket_headers(raw, "repo:push", delivery="req-1"), raw)
    (event,) = parsed.events
    assert isinstance(event, PushReceived)
    assert parsed.repo_url == event.repo_url == "https://bitbucket.org/brydzewski/foo"
    assert (event.provider, event.repo_full_name, event.branch, event.commit, event.delivery_id) == (
        "bitbucket",
        "brydzewski/foo",
        "master",
        "141977fedf5cf35aa290ac87d4b5177ac4cd9de1",
        "req-1",
    )
    assert (event.commit_message, event.changed_paths) == ("Update README\n", None)


def test_branch_creation_deploys() -> None:
    raw = body("bitbucket", "go-scm.push_branch_create.json")
    (event,) = bitbucket.parse(bitbucket_headers(raw, "repo:push"), raw).events
    assert (event.branch, event.commit) == ("develop", "141977fedf5cf35aa290ac87d4b5177ac4cd9de1")


@pytest.mark.parametrize(
    ("fixture", "kind", "reason"),
    [
        ("go-scm.push_branch_delete.json", "branch_deleted", "branch 'develop' was deleted: nothing to deploy"),
        ("go-scm.push_tag_create.json", "tag", "'feature/x' is a tag: tags are not deployed"),
        ("go-scm.push_tag_delete.json", "tag", "'feature/x' is a tag: tags are not deployed"),
    ],
)
def test_ignored_with_a_reason(fixture: str, kind: str, reason: str) -> None:
    raw = body("bitbucket", fixture)
    parsed = bitbucket.parse(bitbucket_headers(raw, "repo:push"), raw)
    assert (parsed.events, [(i.kind, i.reason) for i in parsed.ignored]) == ((), [(kind, reason)])


def test_one_push_of_several_refs_gives_one_event_per_branch() -> None:
    doc = json.loads(body("bitbucket", "go-scm.push.json"))
    tag = json.loads(body("bitbucket", "go-scm.push_tag_create.json"))["push"]["changes"][0]
    second = json.loads(json.dumps(doc["push"]["changes"][0]))
    second["new"]["name"] = "develop"
    doc["push"]["changes"] += [second, tag]
    raw = json.dumps(doc).encode()
    parsed = bitbucket.parse(bitbucket_headers(raw, "repo:push"), raw)
    assert [e.branch for e in parsed.events] == ["master", "develop"]  # type: ignore[union-attr]
    assert len({e.event_id for e in parsed.events}) == 2
    assert [i.kind for i in parsed.ignored] == ["tag"]


@pytest.mark.parametrize(
    ("fixture", "key", "action", "number", "commit"),
    [
        ("go-scm.pr_created.json", "pullrequest:created", "opened", 1, "507a576e59b3"),
        ("go-scm.pr_updated.json", "pullrequest:updated", "synchronize", 1, "0704fc5beccc"),
        ("go-scm.pr_fulfilled.json", "pullrequest:fulfilled", "closed", 1, "0704fc5beccc"),
        ("go-scm.pr_declined.json", "pullrequest:rejected", "closed", 2, "6ca9fe26898a"),
    ],
)
def test_pull_requests_carry_12_character_hashes(fixture: str, key: str, action: str, number: int, commit: str) -> None:
    raw = body("bitbucket", fixture)
    (event,) = bitbucket.parse(bitbucket_headers(raw, key), raw).events
    assert isinstance(event, PullRequestReceived)
    assert (event.action, event.number, event.commit, event.head_branch, event.base_branch, event.repo_url) == (
        action,
        number,
        commit,
        "develop",
        "master",
        "https://bitbucket.org/brydzewski/foo",
    )


def test_unknown_event_keys_are_ignored() -> None:
    raw = body("bitbucket", "go-scm.push.json")
    (why,) = bitbucket.parse(bitbucket_headers(raw, "repo:fork"), raw).ignored
    assert (why.kind, why.reason) == ("unsupported_event", "Bitbucket event 'repo:fork' deploys nothing")


def test_missing_event_key_is_malformed() -> None:
    with pytest.raises(MalformedPayload, match="X-Event-Key"):
        bitbucket.parse({}, body("bitbucket", "go-scm.push.json"))


def test_push_without_changes_is_malformed() -> None:
    raw = json.dumps({"push": {"changes": []}, "repository": {"full_name": "a/b"}}).encode()
    with pytest.raises(MalformedPayload, match=r"'push\.changes' is empty"):
        bitbucket.parse({"X-Event-Key": "repo:push"}, raw)
