"""``zpanel app …`` against the fake API: what is sent, and the exact --json shapes."""

from __future__ import annotations

import json

from tests.cli.fakeapi import BASE, Fake

URLS = {p: f"{BASE}/webhooks/{p}" for p in ("github", "gitlab", "bitbucket", "gitea")}


def test_create_sends_given_fields_and_prints_the_contract_shape_with_the_secret(zpanel, fake: Fake) -> None:
    r = zpanel(
        "app", "create", "web", "--repo", "https://git.example/web.git", "--server", "s1",
        "--domain", "web.example.com", "--domain", "www.example.com", "--port", "3000", "--build", "dockerfile",
        "--webhook-secret", "s3cret", "--notify", "mailto://ops@example.com", "--previews", "--json",
    )  # fmt: skip
    assert r.code == 0, r.stderr
    assert r.json() == {
        "id": "app-web",
        "name": "web",
        "repo": "https://git.example/web.git",
        "branch": "main",
        "server": "s1",
        "domains": ["web.example.com", "www.example.com"],
        "webhook_urls": URLS,
        "webhook_secret": "s3cret",
    }
    method, path, body = fake.requests[-1]
    assert (method, path) == ("POST", "/api/v1/applications")
    assert json.loads(body) == {
        "name": "web",
        "repo": "https://git.example/web.git",
        "branch": "main",
        "server": "s1",
        "domains": ["web.example.com", "www.example.com"],
        "port": 3000,
        "build": "dockerfile",
        "webhook_secret": "s3cret",
        "notify": ["mailto://ops@example.com"],
        "previews": True,
    }


def test_list_and_show_print_the_shape_without_the_secret(zpanel, fake: Fake) -> None:
    assert zpanel("app", "create", "api", "--repo", "r", "--server", "local").code == 0
    listed = zpanel("app", "list", "--json")
    shown = zpanel("app", "show", "api", "--json")
    expected = {
        "id": "app-api",
        "name": "api",
        "repo": "r",
        "branch": "main",
        "server": "local",
        "domains": [],
        "webhook_urls": URLS,
    }
    assert (listed.code, listed.json()) == (0, [expected])
    assert (shown.code, shown.json()) == (0, expected)


def test_human_create_prints_webhook_url_and_secret(zpanel) -> None:
    r = zpanel("app", "create", "site", "--repo", "r", "--server", "local", "--webhook-secret", "abc123")
    assert r.code == 0
    assert f"{BASE}/webhooks/github" in r.stdout
    assert "abc123" in r.stdout


def test_a_conflict_is_one_line_and_exit_1(zpanel) -> None:
    assert zpanel("app", "create", "dup", "--repo", "r", "--server", "local").code == 0
    r = zpanel("app", "create", "dup", "--repo", "r", "--server", "local")
    assert (r.code, r.stdout, r.stderr) == (1, "", "zpanel: application dup exists: pick another name\n")


def test_unknown_app_is_the_apis_404_message(zpanel) -> None:
    r = zpanel("app", "show", "ghost", "--json")
    assert (r.code, r.stderr) == (1, "zpanel: no application ghost: see `zpanel app list`\n")


def test_bad_input_is_refused_before_any_request(zpanel, fake: Fake) -> None:
    cases = {
        ("app", "create", "Web", "--repo", "r", "--server", "s"): "zpanel: application name 'Web' is not valid: use 1-63 lowercase letters, digits and '-', starting with a letter or digit\n",
        ("app", "create", "web", "--server", "s"): "zpanel: error: Missing option '--repo'. (see `zpanel app create --help`)\n",
        ("app", "create", "web", "--repo", "r", "--server", "s", "--port", "0"): "zpanel: error: Invalid value for '--port': Input should be greater than or equal to 1 (see `zpanel app create --help`)\n",
        ("app", "create", "web", "--repo", "r", "--server", "s", "--strategy", "yolo"): "zpanel: error: Invalid value for '--strategy': Value error, 'yolo' is not one of 'zero-downtime', 'blue-green', 'rolling', 'recreate'. (see `zpanel app create --help`)\n",
    }  # fmt: skip
    for args, line in cases.items():
        r = zpanel(*args)
        assert (r.code, r.stderr) == (2, line), args
    assert fake.requests == []
