"""Repository identity and which applications an event deploys."""

from __future__ import annotations

import pytest

from tests.gateway.helpers import app
from zpanel.events import PullRequestReceived, PushReceived
from zpanel_webhook_gateway.matching import (
    RepoIdentity,
    apps_for_repo,
    identity,
    match,
    match_with_reasons,
    same_repo,
    watched,
)

GH = RepoIdentity("github.com", "codertocat/hello-world")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/Codertocat/Hello-World.git", GH),
        ("https://github.com/codertocat/hello-world", GH),
        ("https://github.com/Codertocat/Hello-World/", GH),
        ("http://GitHub.com/Codertocat/Hello-World.git", GH),
        ("https://token:x-oauth@github.com/Codertocat/Hello-World.git", GH),
        ("git@github.com:Codertocat/Hello-World.git", GH),
        ("github.com:Codertocat/Hello-World", GH),
        ("ssh://git@github.com/Codertocat/Hello-World.git", GH),
        ("ssh://git@github.com:22/Codertocat/Hello-World", GH),
        ("git://github.com/Codertocat/Hello-World.git", GH),
        ("  https://github.com/Codertocat/Hello-World.git\n", GH),
        ("https://gitlab.com/Group/Sub/Repo.git", RepoIdentity("gitlab.com", "group/sub/repo")),
        ("ssh://gitea@localhost:2222/gitea/webhooks.git", RepoIdentity("localhost", "gitea/webhooks")),
        ("http://localhost:3000/gitea/webhooks.git", RepoIdentity("localhost", "gitea/webhooks")),
        ("https://bitbucket.org/brydzewski/foo", RepoIdentity("bitbucket.org", "brydzewski/foo")),
        ("https://brydzewski@bitbucket.org/brydzewski/foo.git", RepoIdentity("bitbucket.org", "brydzewski/foo")),
        ("/srv/git/App.git", RepoIdentity("", "/srv/git/App.git")),
        ("/srv/git/App.git/", RepoIdentity("", "/srv/git/App.git")),
        ("file:///srv/git/App.git", RepoIdentity("", "/srv/git/App.git")),
        ("", None),
        ("https://github.com", None),
        ("https://github.com/.git", None),
        ("not a url", None),
        ("C:/repos/app", None),
        ("http://[::1", None),
    ],
)
def test_identity(url: str, expected: RepoIdentity | None) -> None:
    assert identity(url) == expected


def test_same_repo_across_notations_but_not_across_hosts_or_local_case() -> None:
    assert same_repo("git@github.com:acme/app.git", "https://github.com/ACME/App")
    assert not same_repo("git@github.com:acme/app.git", "https://gitlab.com/acme/app")
    assert not same_repo("/srv/git/App", "/srv/git/app")
    assert not same_repo("", "")


def push(
    branch: str = "master", paths: list[str] | None = None, repo: str = "https://github.com/Codertocat/Hello-World.git"
) -> PushReceived:
    return PushReceived(provider="github", repo_url=repo, branch=branch, commit="6113728f27ae", changed_paths=paths)


def pr(action: str = "opened", base: str = "master") -> PullRequestReceived:
    return PullRequestReceived(
        provider="github",
        action=action,  # type: ignore[arg-type]
        number=2,
        repo_url="https://github.com/Codertocat/Hello-World.git",
        base_branch=base,
        head_branch="changes",
        commit="ec26c3e57ca3",
    )


def test_push_matches_apps_of_the_repo_and_branch_in_any_notation() -> None:
    a = app("a", "git@github.com:codertocat/hello-world.git")
    b = app("b", "https://github.com/Codertocat/Hello-World", branch="develop")
    c = app("c", "https://github.com/Codertocat/Other.git")
    d = app("d", "https://github.com/CODERTOCAT/HELLO-WORLD.git")
    assert [x.name for x in match(push(), [a, b, c, d])] == ["a", "d"]
    assert [x.name for x in apps_for_repo("https://github.com/Codertocat/Hello-World.git", [a, b, c, d])] == [
        "a",
        "b",
        "d",
    ]


def test_branch_names_are_case_sensitive() -> None:
    assert match(push("Master"), [app()]) == []


def test_reasons_say_why_each_app_of_the_repo_was_skipped() -> None:
    apps = [
        app("a", branch="develop"),
        app("b", auto_deploy=False),
        app("c", watch_paths=["src/"]),
        app("d", "https://github.com/someone/else.git"),
    ]
    result = match_with_reasons(push(paths=["README.md"]), apps)
    assert result.apps == []
    assert [(a.name, why) for a, why in result.skipped] == [
        ("a", "a deploys branch 'develop', not 'master'"),
        ("b", "auto-deploy is off for b"),
        ("c", "no changed file is under the watch paths of c"),
    ]


def test_reason_when_no_app_deploys_the_repository() -> None:
    result = match_with_reasons(push(repo="https://github.com/nobody/nothing.git"), [app()])
    assert (result.apps, result.reason) == (
        [],
        "no application deploys repository https://github.com/nobody/nothing.git",
    )


def test_watch_paths_are_ignored_when_the_changed_files_are_unknown() -> None:
    assert [a.name for a in match(push(paths=None), [app(watch_paths=["src/"])])] == ["web"]


@pytest.mark.parametrize(
    ("paths", "patterns", "expected"),
    [
        (["src/app.py"], ["src/"], True),
        (["src/app.py"], ["src"], True),
        (["srcs/app.py"], ["src"], False),
        (["src/deep/app.py"], ["src/*.py"], True),
        (["app.py"], ["**/*.py"], True),
        (["lib/app.py"], ["**/*.py"], True),
        (["README.md"], ["*.py", "src/"], False),
        (["docs/a.md", "api/main.go"], ["api/**"], True),
        (["/api/main.go"], ["/api/"], True),
        (["Dockerfile"], ["Dockerfile"], True),
        (["dockerfile"], ["Dockerfile"], False),
        (["a"], [""], False),
        ([], ["src/"], False),
    ],
)
def test_watched(paths: list[str], patterns: list[str], expected: bool) -> None:
    assert watched(paths, patterns) is expected


def test_previews_need_previews_on_and_the_pr_to_target_the_app_branch() -> None:
    on = app("on", previews=True)
    off = app("off")
    other = app("other", previews=True, branch="develop")
    result = match_with_reasons(pr(), [on, off, other])
    assert [a.name for a in result.apps] == ["on"]
    assert [why for _, why in result.skipped] == [
        "previews are off for off",
        "other deploys branch 'develop'; pull request #2 targets 'master'",
    ]


def test_a_closed_pull_request_reaches_apps_whose_previews_were_switched_off() -> None:
    assert [a.name for a in match(pr("closed"), [app("off")])] == ["off"]
