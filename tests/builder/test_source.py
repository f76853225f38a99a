from __future__ import annotations

from pathlib import Path

import pytest

from zpanel_builder import source
from zpanel_builder.errors import InvalidSource

SAFE = ["git", "-c", "credential.helper=", "-c", "core.hooksPath=/dev/null", "-c", "protocol.version=2"]
SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize(
    "url",
    [
        "https://github.com/acme/shop.git",
        "http://127.0.0.1:3000/acme/shop",
        "ssh://git@gitlab.example.com:2222/acme/shop.git",
        "git@github.com:acme/shop.git",
        "/srv/git/shop.git",
        "file:///srv/git/shop.git",
    ],
)
def test_valid_urls_pass_unchanged(url: str) -> None:
    assert source.validate_repo_url(url) == url


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("--upload-pack=touch /tmp/x", "contains spaces"),
        ("-oProxyCommand=x", "starts with '-'"),
        ("ext::sh -c touch% /tmp/x", "contains spaces"),
        ("ext::sh", "transports such as 'ext::' are not allowed"),
        ("https://user:tok@github.com/a/b.git", "must not contain credentials"),
        ("https://github.com/a/b.git;rm -rf /", "contains spaces"),
        ("https://github.com/a/b;rm", "the path may hold"),
        ("ftp://example.com/a.git", "the scheme must be one of https, http, ssh, git"),
        ("/srv/../etc/passwd", "absolute path without '..'"),
        ("relative/path", "use https://host/owner/repo.git"),
        ("https://-evil/a.git", "host name is missing or malformed"),
    ],
)
def test_bad_urls_fail_clearly(url: str, message: str) -> None:
    with pytest.raises(InvalidSource, match=f"repository URL .* is not valid: .*{message}|{message}"):
        source.validate_repo_url(url)


@pytest.mark.parametrize("name", ["main", "feature/login-form", "release-1.2", "v2_x", "renovate/npm+pkg"])
def test_valid_branches(name: str) -> None:
    assert source.validate_branch(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "--upload-pack=evil",
        ";rm -rf /",
        "-b",
        "a..b",
        "a/.hidden",
        "x.lock",
        "dir/",
        "a b",
        "a@{1}",
        "a~1",
        "$(id)",
        "",
    ],
)
def test_bad_branches_fail_clearly(name: str) -> None:
    with pytest.raises(InvalidSource, match=r"branch .* is not valid"):
        source.validate_branch(name)


def test_commit_is_hex_only_and_lowercased() -> None:
    assert source.validate_commit("ABCDEF1") == "abcdef1"
    for bad in ("HEAD", "main", "abc", "--upload-pack=x", ";rm -rf", "abcdef1^{tree}"):
        with pytest.raises(InvalidSource, match="give a commit SHA in hex"):
            source.validate_commit(bad)


def test_mirror_dir_is_one_per_url_and_readable() -> None:
    assert source.mirror_dir(Path("/c"), "https://github.com/acme/shop.git") == Path("/c/d8221488deded493-shop.git")
    assert source.mirror_dir(Path("/c"), "git@github.com:acme/shop") == Path("/c/1bf768b7ffc64baf-shop.git")


def test_argv_builders_exact() -> None:
    m = Path("/cache/m.git")
    assert source.clone_mirror_argv("https://h.example/a/b.git", Path("/cache/t")) == [
        *SAFE,
        "clone",
        "--mirror",
        "--",
        "https://h.example/a/b.git",
        "/cache/t",
    ]
    assert source.fetch_argv(m) == [
        *SAFE,
        "--git-dir",
        "/cache/m.git",
        "fetch",
        "--prune",
        "--no-write-fetch-head",
        "origin",
    ]
    assert source.fetch_commit_argv(m, SHA) == [
        *SAFE,
        "--git-dir",
        "/cache/m.git",
        "fetch",
        "--no-write-fetch-head",
        "origin",
        SHA,
    ]
    assert source.resolve_commit_argv(m, "abcdef1") == [
        *SAFE,
        "--git-dir",
        "/cache/m.git",
        "rev-parse",
        "--verify",
        "--quiet",
        "--end-of-options",
        "abcdef1^{commit}",
    ]
    assert source.resolve_branch_argv(m, "main") == [
        *SAFE,
        "--git-dir",
        "/cache/m.git",
        "rev-parse",
        "--verify",
        "--quiet",
        "--end-of-options",
        "refs/heads/main^{commit}",
    ]
    assert source.worktree_add_argv(m, Path("/w/d1"), SHA) == [
        *SAFE,
        "--git-dir",
        "/cache/m.git",
        "worktree",
        "add",
        "--detach",
        "--",
        "/w/d1",
        SHA,
    ]
    assert source.submodules_argv(Path("/w/d1")) == [
        *SAFE,
        "-C",
        "/w/d1",
        "submodule",
        "update",
        "--init",
        "--recursive",
        "--jobs",
        "4",
    ]


def test_argv_builders_refuse_bad_values_before_git_runs() -> None:
    with pytest.raises(InvalidSource):
        source.clone_mirror_argv("--upload-pack=evil", Path("/t"))
    with pytest.raises(InvalidSource):
        source.resolve_branch_argv(Path("/m"), "--upload-pack=evil")
    with pytest.raises(InvalidSource, match="resolve it to a full SHA"):
        source.worktree_add_argv(Path("/m"), Path("/w"), "abcdef1")


def test_git_env_drops_inherited_git_variables_and_limits_protocols() -> None:
    base = {"PATH": "/bin", "GIT_DIR": "/elsewhere", "GIT_SSH_COMMAND": "evil"}
    assert source.git_env(base, "https://h.example/a.git", {"GIT_ASKPASS": "/t/askpass"}) == {
        "PATH": "/bin",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ALLOW_PROTOCOL": "http:https:ssh:git",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_ASKPASS": "/t/askpass",
    }
    assert source.git_env(base, "/srv/a.git")["GIT_ALLOW_PROTOCOL"] == "http:https:ssh:git:file"
