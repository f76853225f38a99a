"""GitLab: the secret token and the signed form, and the payloads of GitLab's webhook docs
(and of real deliveries kept by go-scm)."""

from __future__ import annotations

import json

import pytest
from standardwebhooks.webhooks import Webhook

from tests.gateway.helpers import SECRET, body, gitlab_headers
from zpanel.events import PullRequestReceived, PushReceived
from zpanel_webhook_gateway.providers import MalformedPayload, gitlab

WHSEC = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_token_equal_to_the_secret_verifies() -> None:
    assert gitlab.verify({"X-Gitlab-Token": SECRET}, b"{}", SECRET) is True


@pytest.mark.parametrize(
    ("headers", "secret"),
    [
        ({"X-Gitlab-Token": SECRET + "x"}, SECRET),
        ({"X-Gitlab-Token": SECRET[:-1]}, SECRET),
        ({"X-Gitlab-Token": ""}, SECRET),
        ({"X-Gitlab-Token": "é"}, "é-but-longer"),
        ({}, SECRET),
        ({"X-Gitlab-Token": ""}, ""),
    ],
)
def test_token_mismatch_is_rejected(headers: dict[str, str], secret: str) -> None:
    assert gitlab.verify(headers, b"{}", secret) is False


def _signed(raw: bytes, stamp: int, secret: str = WHSEC) -> dict[str, str]:
    from datetime import UTC, datetime

    sig = Webhook(secret).sign("idem-1", datetime.fromtimestamp(stamp, tz=UTC), raw.decode())
    return {"webhook-id": "idem-1", "webhook-timestamp": str(stamp), "webhook-signature": sig}


def test_signed_form_verifies_with_a_whsec_secret() -> None:
    raw = body("gitlab", "push.json")
    assert gitlab.verify(_signed(raw, 1_800_000_000), raw, WHSEC, now=1_800_000_005) is True


def test_signed_form_is_checked_even_when_a_token_is_also_sent() -> None:
    raw = body("gitlab", "push.json")
    forged = _signed(raw, 1_800_000_000, "whsec_" + "A" * 43) | {"X-Gitlab-Token": WHSEC}
    assert gitlab.verify(forged, raw, WHSEC, now=1_800_000_000) is False


def test_a_plain_secret_still_verifies_by_token_when_the_hook_also_signs_with_another_key() -> None:
    raw = body("gitlab", "push.json")
    headers = _signed(raw, 1_800_000_000) | {"X-Gitlab-Token": SECRET}
    assert gitlab.verify(headers, raw, SECRET, now=1_800_000_000) is True


def test_delivery_id_prefers_the_idempotency_key() -> None:
    assert gitlab.delivery_id({"X-Gitlab-Event-UUID": "e", "Idempotency-Key": "i"}, b"") == "i"
    assert gitlab.delivery_id({"X-Gitlab-Event-UUID": "e"}, b"") == "e"


def test_docs_push_example_becomes_push_received() -> None:
    (event,) = gitlab.parse(gitlab_headers(), body("gitlab", "push.json")).events
    assert isinstance(event, PushReceived)
    assert (event.provider, event.repo_url, event.repo_full_name, event.branch, event.commit) == (
        "gitlab",
        "http://example.com/mike/diaspora.git",
        "mike/diaspora",
        "master",
        "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
    )
    assert (event.commit_message, event.pusher, event.delivery_id) == ("fixed readme", "jsmith", "d-1")
    # total_commits_count is 4 but only 2 commits are listed: the changed files are not all known.
    assert event.changed_paths is None


def test_real_push_lists_changed_paths_when_every_commit_is_listed() -> None:
    (event,) = gitlab.parse(gitlab_headers(), body("gitlab", "go-scm.push.json")).events
    assert (event.branch, event.commit, event.changed_paths) == (
        "master",
        "2adc9465c4edfc33834e173fe89436a7cb899a1d",
        ["README.md"],
    )


def test_subgroup_project_keeps_its_full_path() -> None:
    (event,) = gitlab.parse(gitlab_headers(), body("gitlab", "go-scm.push_subgroup.json")).events
    assert event.repo_full_name is not None and event.repo_full_name.count("/") >= 2


def test_annotated_tag_commit_comes_from_checkout_sha() -> None:
    doc = json.loads(body("gitlab", "push.json"))
    doc["after"] = "82b3d5ae55f7080f1e6022629cdb57bfae7cccc7"  # what a tag object id would be
    (event,) = gitlab.parse(gitlab_headers(), json.dumps(doc).encode()).events
    assert event.commit == "da1560886d4f094c3e6c9ef40349f7d38b5d27d7"


@pytest.mark.parametrize(
    ("fixture", "kind", "reason"),
    [
        ("tag_push.json", "tag", "'refs/tags/v1.0.0' is a tag: tags are not deployed"),
        ("go-scm.tag_create.json", "tag", "'refs/tags/v1.0.0' is a tag: tags are not deployed"),
        ("go-scm.branch_delete.json", "branch_deleted", "branch 'feature' was deleted: nothing to deploy"),
        (
            "go-scm.pull_request_review_ready.json",
            "unsupported_action",
            "merge request !3 update: previews only follow new commits",
        ),
    ],
)
def test_ignored_with_a_reason(fixture: str, kind: str, reason: str) -> None:
    parsed = gitlab.parse(gitlab_headers(), body("gitlab", fixture))
    assert parsed.events == ()
    assert [(i.kind, i.reason) for i in parsed.ignored] == [(kind, reason)]
    assert parsed.repo_url is not None


def test_skip_marker_in_the_head_commit() -> None:
    doc = json.loads(body("gitlab", "push.json"))
    doc["commits"][1]["message"] = "fixed readme [skip deploy]"
    (why,) = gitlab.parse(gitlab_headers(), json.dumps(doc).encode()).ignored
    assert why.kind == "skip_marker"


def test_skip_marker_in_an_older_commit_does_not_skip() -> None:
    doc = json.loads(body("gitlab", "push.json"))
    doc["commits"][0]["message"] = "wip [skip ci]"
    assert len(gitlab.parse(gitlab_headers(), json.dumps(doc).encode()).events) == 1


def test_docs_merge_request_example_becomes_pull_request_received() -> None:
    (event,) = gitlab.parse(gitlab_headers("Merge Request Hook"), body("gitlab", "merge_request.open.json")).events
    assert isinstance(event, PullRequestReceived)
    assert (event.action, event.number, event.base_branch, event.head_branch, event.commit) == (
        "opened",
        1,
        "master",
        "ms-viewport",
        "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
    )
    assert event.repo_url == "http://example.com/gitlabhq/gitlab-test.git"


@pytest.mark.parametrize(
    ("fixture", "action"),
    [
        ("go-scm.pull_request_create.json", "opened"),
        ("go-scm.pull_request_reopen.json", "reopened"),
        ("go-scm.pull_request_close.json", "closed"),
        ("go-scm.pull_request_merge.json", "closed"),
    ],
)
def test_real_merge_requests(fixture: str, action: str) -> None:
    (event,) = gitlab.parse(gitlab_headers("Merge Request Hook"), body("gitlab", fixture)).events
    assert (event.action, event.number, event.head_branch, event.base_branch) == (action, 1, "feature", "master")


def test_merge_request_update_with_new_commits_is_a_synchronize() -> None:
    doc = json.loads(body("gitlab", "go-scm.pull_request_review_ready.json"))
    doc["object_attributes"]["oldrev"] = "c4c79227ed610f1151f05bbc5be33b4f340d39c8"
    (event,) = gitlab.parse(gitlab_headers("Merge Request Hook"), json.dumps(doc).encode()).events
    assert (event.action, event.commit) == ("synchronize", "ffd71529ecdfb41a530ee13f91b8fdd3e743c754")


def test_merge_request_from_a_fork_is_ignored() -> None:
    doc = json.loads(body("gitlab", "go-scm.pull_request_create.json"))
    doc["object_attributes"]["source_project_id"] = 999999
    (why,) = gitlab.parse(gitlab_headers("Merge Request Hook"), json.dumps(doc).encode()).ignored
    assert why.kind == "fork"


def test_body_without_object_kind_is_malformed() -> None:
    with pytest.raises(MalformedPayload, match="'object_kind' is missing"):
        gitlab.parse(gitlab_headers(), b'{"ref": "refs/heads/main"}')
