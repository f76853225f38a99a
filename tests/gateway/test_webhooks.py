"""The decision for one webhook request, for every provider: valid → 202 with deployment ids,
wrong signature → 401 and nothing queued, tag/delete/ping → 200 with a reason, redelivery → the
same deployment ids."""

from __future__ import annotations

import json

import pytest

from tests.gateway.helpers import (
    SECRET,
    app,
    bitbucket_headers,
    body,
    gitea_headers,
    github_headers,
    gitlab_headers,
)
from zpanel.models import Application
from zpanel_webhook_gateway.idempotency import deployment_id_for
from zpanel_webhook_gateway.providers import MAX_BODY_BYTES, PROVIDERS
from zpanel_webhook_gateway.webhooks import Outcome, receive

GH_REPO = "git@github.com:Codertocat/Hello-World.git"


def secret_of(a: Application) -> str:
    return a.webhook_secret  # stands in for Cipher.open


def run(provider: str, headers: dict[str, str], raw: bytes, apps: list[Application]) -> Outcome:
    return receive(PROVIDERS[provider], headers, raw, apps, secret_of)


# provider, repo of the app, branch, headers maker (signed with SECRET), fixture, commit
VALID = [
    (
        "github",
        GH_REPO,
        "master",
        lambda raw, s: github_headers(raw, "push", s),
        "push.json",
        "6113728f27ae82c7b1a177c8d03f9e96e0adf246",
    ),
    (
        "gitlab",
        "git@example.com:mike/diaspora.git",
        "master",
        lambda raw, s: gitlab_headers(token=s),
        "push.json",
        "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
    ),
    (
        "bitbucket",
        "git@bitbucket.org:brydzewski/foo.git",
        "master",
        lambda raw, s: bitbucket_headers(raw, "repo:push", s),
        "go-scm.push.json",
        "141977fedf5cf35aa290ac87d4b5177ac4cd9de1",
    ),
    (
        "gitea",
        "ssh://gitea@localhost:2222/gitea/webhooks.git",
        "develop",
        lambda raw, s: gitea_headers(raw, "push", s),
        "push.json",
        "bffeb74224043ba2feb48d137756c8a9331c449a",
    ),
]


@pytest.mark.parametrize(("provider", "repo", "branch", "headers", "fixture", "commit"), VALID)
def test_valid_push_is_queued_with_its_deployment_id(provider, repo, branch, headers, fixture, commit) -> None:  # type: ignore[no-untyped-def]
    raw = body(provider, fixture)
    web = app("web", repo, branch=branch)
    outcome = run(provider, headers(raw, SECRET), raw, [web, app("other", "https://example.org/x/y.git")])
    assert outcome.status == 202
    (queued,) = outcome.queued
    assert (queued.app.name, queued.event.commit) == ("web", commit)
    assert queued.deployment_id == deployment_id_for(queued.event.event_id, web.id)
    assert outcome.events == [queued.event]
    assert outcome.body() == {"status": "queued", "delivery_id": "d-1", "deployment_ids": [queued.deployment_id]}


@pytest.mark.parametrize(("provider", "repo", "branch", "headers", "fixture", "commit"), VALID)
def test_wrong_signature_is_401_and_queues_nothing(provider, repo, branch, headers, fixture, commit) -> None:  # type: ignore[no-untyped-def]
    raw = body(provider, fixture)
    outcome = run(provider, headers(raw, "not-the-secret"), raw, [app("web", repo, branch=branch)])
    assert (outcome.status, outcome.queued) == (401, [])
    assert outcome.body()["error"]["code"] == "bad_signature"


@pytest.mark.parametrize(("provider", "repo", "branch", "headers", "fixture", "commit"), VALID)
def test_redelivery_names_the_same_deployment(provider, repo, branch, headers, fixture, commit) -> None:  # type: ignore[no-untyped-def]
    raw = body(provider, fixture)
    apps = [app("web", repo, branch=branch)]
    first = run(provider, headers(raw, SECRET), raw, apps)
    again = run(provider, headers(raw, SECRET), raw, apps)
    assert [q.deployment_id for q in first.queued] == [q.deployment_id for q in again.queued]
    assert [e.event_id for e in first.events] == [e.event_id for e in again.events]


@pytest.mark.parametrize(
    ("provider", "repo", "headers", "fixture", "reason"),
    [
        (
            "github",
            GH_REPO,
            lambda raw: github_headers(raw, "push"),
            "push.tag.json",
            "'refs/tags/simple-tag' is a tag: tags are not deployed",
        ),
        (
            "github",
            "https://github.com/Octocoders/Hello-World",
            lambda raw: github_headers(raw, "ping"),
            "ping.json",
            "ping received: the webhook works",
        ),
        (
            "gitlab",
            "http://example.com/jsmith/example.git",
            lambda raw: gitlab_headers("Tag Push Hook"),
            "tag_push.json",
            "'refs/tags/v1.0.0' is a tag: tags are not deployed",
        ),
        (
            "gitlab",
            "https://gitlab.com/gitlab-org/hello-world.git",
            lambda raw: gitlab_headers(),
            "go-scm.branch_delete.json",
            "branch 'feature' was deleted: nothing to deploy",
        ),
        (
            "bitbucket",
            "https://bitbucket.org/brydzewski/foo.git",
            lambda raw: bitbucket_headers(raw, "repo:push"),
            "go-scm.push_branch_delete.json",
            "branch 'develop' was deleted: nothing to deploy",
        ),
        (
            "gitea",
            "https://try.gitea.io/gogits/hello-world",
            lambda raw: gitea_headers(raw, "delete"),
            "go-scm.branch_delete.json",
            "branch 'feature' was deleted: nothing to deploy",
        ),
    ],
)
def test_tag_delete_and_ping_answer_200_with_a_reason(provider, repo, headers, fixture, reason) -> None:  # type: ignore[no-untyped-def]
    raw = body(provider, fixture)
    outcome = run(provider, headers(raw), raw, [app("web", repo)])
    assert (outcome.status, outcome.reason, outcome.queued) == (200, reason, [])
    assert outcome.body() == {"status": "ignored", "delivery_id": "d-1", "reason": reason}


def test_ping_with_a_bad_signature_is_still_401() -> None:
    raw = body("github", "ping.json")
    outcome = run(
        "github", github_headers(raw, "ping", "wrong"), raw, [app("web", "https://github.com/Octocoders/Hello-World")]
    )
    assert outcome.status == 401


def test_missing_signature_says_which_header_to_set() -> None:
    raw = body("github", "push.json")
    outcome = run("github", {"X-GitHub-Event": "push"}, raw, [app("web", GH_REPO)])
    assert (outcome.status, outcome.reason) == (
        401,
        "missing X-Hub-Signature-256 header: set the application's webhook secret on the GitHub webhook",
    )


def test_only_apps_whose_own_secret_verified_are_deployed() -> None:
    raw = body("github", "push.json")
    mine = app("mine", GH_REPO)
    theirs = app("theirs", GH_REPO).model_copy(update={"webhook_secret": "another-secret"})
    outcome = run("github", github_headers(raw, "push"), raw, [mine, theirs])
    assert [q.app.name for q in outcome.queued] == ["mine"]


def test_non_matching_branch_and_auto_deploy_off_answer_200_with_reasons() -> None:
    raw = body("github", "push.json")
    apps = [app("dev", GH_REPO, branch="develop"), app("manual", GH_REPO, auto_deploy=False)]
    outcome = run("github", github_headers(raw, "push"), raw, apps)
    assert (outcome.status, outcome.reason) == (
        200,
        "dev deploys branch 'develop', not 'master'; auto-deploy is off for manual",
    )


def test_unknown_repository_is_200_with_a_reason() -> None:
    raw = body("github", "push.json")
    outcome = run("github", github_headers(raw, "push"), raw, [app("x", "https://github.com/a/b")])
    assert (outcome.status, outcome.reason) == (
        200,
        "no application deploys repository https://github.com/Codertocat/Hello-World.git",
    )


def test_malformed_is_400_and_too_large_is_413() -> None:
    assert run("github", {"X-GitHub-Event": "push"}, b"{not json", [app()]).status == 400
    assert run("github", {}, b"x" * (MAX_BODY_BYTES + 1), [app()]).status == 413


def test_pull_request_is_queued_for_apps_with_previews() -> None:
    raw = body("github", "pull_request.opened.json")
    apps = [app("web", GH_REPO, previews=True), app("plain", GH_REPO)]
    outcome = run("github", github_headers(raw, "pull_request"), raw, apps)
    assert (outcome.status, [q.app.name for q in outcome.queued], outcome.reason) == (
        202,
        ["web"],
        "previews are off for plain",
    )


def test_bitbucket_push_of_two_branches_queues_each_app_once() -> None:
    doc = json.loads(body("bitbucket", "go-scm.push.json"))
    second = json.loads(json.dumps(doc["push"]["changes"][0]))
    second["new"]["name"] = "develop"
    doc["push"]["changes"].append(second)
    raw = json.dumps(doc).encode()
    repo = "https://bitbucket.org/brydzewski/foo"
    apps = [app("prod", repo), app("staging", repo, branch="develop")]
    outcome = run("bitbucket", bitbucket_headers(raw, "repo:push"), raw, apps)
    assert [(q.app.name, q.event.branch) for q in outcome.queued] == [("prod", "master"), ("staging", "develop")]  # type: ignore[union-attr]
    assert len(outcome.events) == 2
