"""Refs, commit ids and skip markers: what reaches the builder's git argv is checked here."""

from __future__ import annotations

import pytest

from zpanel_webhook_gateway.providers import MalformedPayload
from zpanel_webhook_gateway.providers.base import Ignored, header, same_text
from zpanel_webhook_gateway.providers.refs import classify_ref, commit_id, is_zero, skip_marker, valid_branch


@pytest.mark.parametrize("name", ["main", "feature/x", "release-1.2", "user/a_b", "Ünïcode"])
def test_valid_branches(name: str) -> None:
    assert valid_branch(name) is True


@pytest.mark.parametrize(
    "name",
    [
        "",
        "-rf",
        "/abs",
        "a/",
        "a..b",
        "a.lock",
        "a/.hidden",
        "a b",
        "a~1",
        "a^",
        "a:b",
        "a?",
        "a*",
        "a[",
        "a\\b",
        "@",
        "a@{1}",
        "a//b",
        "a.",
        "x\x00",
    ],
)
def test_invalid_branches(name: str) -> None:
    assert valid_branch(name) is False


def test_classify_ref() -> None:
    assert classify_ref("refs/heads/feature/x") == "feature/x"
    assert classify_ref("refs/tags/v1") == Ignored("tag", "'refs/tags/v1' is a tag: tags are not deployed")
    assert classify_ref("refs/pull/1/head") == Ignored("not_a_branch", "ref 'refs/pull/1/head' is not a branch")
    with pytest.raises(MalformedPayload, match="not a valid git branch name"):
        classify_ref("refs/heads/--upload-pack=evil")


def test_commit_ids() -> None:
    assert commit_id("ABCDEF1234567") == "abcdef1234567"
    for bad in ("abc", "g" * 40, "0" * 40, "a" * 65, "--help"):
        with pytest.raises(MalformedPayload):
            commit_id(bad)


def test_is_zero() -> None:
    assert (is_zero("0" * 40), is_zero("0" * 64), is_zero(None), is_zero(""), is_zero("01")) == (
        True,
        True,
        False,
        False,
        False,
    )


@pytest.mark.parametrize(
    ("message", "marker"),
    [
        ("Fix [skip ci]", "[skip ci]"),
        ("[CI SKIP] docs", "[CI SKIP]"),
        ("x\n\n[skip-deploy]", "[skip-deploy]"),
        ("[deploy skip]", "[deploy skip]"),
        ("skip ci", None),
        ("[skip]", None),
        (None, None),
    ],
)
def test_skip_marker(message: str | None, marker: str | None) -> None:
    assert skip_marker(message) == marker


def test_header_lookup_ignores_case_and_same_text_survives_non_ascii() -> None:
    assert header({"x-github-event": "push"}, "X-GitHub-Event") == "push"
    assert header({}, "X-GitHub-Event") is None
    assert same_text("secret", "sécret") is False
    assert same_text("secret", "secret") is True
