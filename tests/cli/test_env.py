"""``zpanel env set``: KEY=VALUE parsing, flags, secrets from stdin."""

from __future__ import annotations

import json

from tests.cli.fakeapi import Fake


def test_set_secret_build_time_pairs(zpanel, fake: Fake) -> None:
    r = zpanel("env", "set", "web", "DB_URL=postgres://u:p@db/x?a=b", "MODE=prod", "--secret", "--build-time", "--json")
    assert r.code == 0
    assert r.json() == [
        {"key": "DB_URL", "value": "********", "secret": True, "build_time": True},
        {"key": "MODE", "value": "********", "secret": True, "build_time": True},
    ]
    assert [(m, p, json.loads(b)) for m, p, b in fake.requests] == [
        ("PUT", "/api/v1/applications/web/env/DB_URL", {"value": "postgres://u:p@db/x?a=b", "secret": True, "build_time": True}),
        ("PUT", "/api/v1/applications/web/env/MODE", {"value": "prod", "secret": True, "build_time": True}),
    ]  # fmt: skip
    assert "postgres://" not in r.stdout


def test_a_value_from_stdin_stays_out_of_argv(zpanel, fake: Fake) -> None:
    r = zpanel("env", "set", "web", "TOKEN=-", "--secret", input="hunter2\n")
    assert (r.code, r.stdout) == (0, "Set TOKEN (secret) on web.\n")
    assert json.loads(fake.requests[-1][2])["value"] == "hunter2"


def test_bad_pairs_are_refused_before_any_request(zpanel, fake: Fake) -> None:
    assert (zpanel("env", "set", "web", "NOEQUALS").stderr, fake.requests) == (
        "zpanel: expected KEY=VALUE, got 'NOEQUALS'\n",
        [],
    )
    r = zpanel("env", "set", "web", "1BAD=x")
    assert (r.code, r.stderr) == (
        2,
        "zpanel: environment variable name '1BAD' is not valid: use letters, digits and '_'\n",
    )
