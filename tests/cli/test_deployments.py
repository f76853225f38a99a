"""``zpanel deploy|rollback|cancel|deployments|logs`` against the fake API (HTTP and WebSocket)."""

from __future__ import annotations

import json

import pytest

from tests.cli.fakeapi import Fake
from zpanel.cli.client import Api
from zpanel.cli.errors import CliError
from zpanel.cli.follow import follow


def test_deploy_prints_id_and_status(zpanel, fake: Fake) -> None:
    r = zpanel("deploy", "web", "--commit", "abc123", "--json")
    assert (r.code, r.json()) == (0, {"deployment_id": "dep-1", "status": "queued"})
    assert fake.requests[-1] == ("POST", "/api/v1/applications/web/deploy", '{"commit":"abc123"}')


def test_deploy_follow_streams_the_log_and_exits_0_on_success(zpanel, fake: Fake) -> None:
    fake.outcomes["web"] = ("succeeded", None)
    r = zpanel("deploy", "web", "--follow")
    assert r.code == 0, r.stderr
    out = r.stdout
    # A header when each stage starts, then its lines, live; then the stage timings and the URL.
    assert out.splitlines()[:8] == [
        "Deploying dep-1",
        "── build",
        "line 0",
        "line 1",
        "── deploy",
        "line 2",
        "── health",
        "line 3",
    ]
    assert out.splitlines()[-1] == "Live at http://web.localhost/"


def test_deploy_follow_exits_1_with_the_reason_on_failure(zpanel, fake: Fake) -> None:
    fake.outcomes["web"] = ("rolled_back", "health check failed: GET / answered 500 three times")
    r = zpanel("deploy", "web", "--follow", "--json")
    assert r.code == 1
    assert r.json() == {"deployment_id": "dep-1", "status": "rolled_back"}
    assert r.stderr == "zpanel: deployment dep-1 rolled_back: health check failed: GET / answered 500 three times\n"


def test_logs_follow_json_streams_each_message_then_the_status(zpanel, fake: Fake) -> None:
    fake.outcomes["web"] = ("succeeded", None)
    assert zpanel("deploy", "web").code == 0
    r = zpanel("logs", "dep-1", "--follow", "--json")
    assert r.code == 0
    assert [json.loads(line) for line in r.stdout.splitlines()] == [*fake.logs["dep-1"], {"status": "succeeded"}]


def test_logs_follow_falls_back_to_polling_when_the_websocket_is_refused(zpanel, fake: Fake) -> None:
    fake.outcomes["web"] = ("failed", "build failed: no Dockerfile")
    assert zpanel("deploy", "web").code == 0
    fake.ws_refused.add("dep-1")
    r = zpanel("logs", "dep-1", "--follow", "--json")
    assert r.code == 1
    assert [json.loads(line) for line in r.stdout.splitlines()] == [*fake.logs["dep-1"], {"status": "failed"}]
    assert r.stderr == "zpanel: deployment dep-1 failed: build failed: no Dockerfile\n"
    assert ("GET", "/api/v1/deployments/dep-1/logs", None) in fake.requests


def test_logs_without_follow(zpanel, fake: Fake) -> None:
    fake.outcomes["web"] = ("succeeded", None)
    assert zpanel("deploy", "web").code == 0
    r = zpanel("logs", "dep-1", "--json")
    assert (r.code, r.json()) == (0, {"lines": fake.logs["dep-1"], "final": True})
    human = zpanel("logs", "dep-1")
    assert human.stdout.splitlines()[0] == "10:00:00+00: build   line 0"


def test_deployments_json_is_the_contract_shape(zpanel, fake: Fake) -> None:
    fake.outcomes["web"] = ("succeeded", None)
    assert zpanel("deploy", "web").code == 0
    r = zpanel("deployments", "web", "--json", "--limit", "5")
    assert r.code == 0
    assert r.json() == [
        {
            "id": "dep-1",
            "app": "web",
            "status": "succeeded",
            "commit": "0123456789abcdef0123456789abcdef01234567",
            "image": "zpanel/web:0123456",
            "trigger": "manual",
            "created_at": "2026-11-27T10:00:00+00:00",
            "finished_at": "2026-11-27T10:00:03+00:00",
            "stages": [
                {"name": "build", "status": "succeeded", "started_at": "2026-11-27T10:00:00+00:00", "finished_at": "2026-11-27T10:00:01.500000+00:00"},
                {"name": "deploy", "status": "succeeded", "started_at": "2026-11-27T10:00:01.500000+00:00", "finished_at": "2026-11-27T10:00:03+00:00"},
            ],
            "error": None,
        }
    ]  # fmt: skip
    assert fake.requests[-1][:2] == ("GET", "/api/v1/applications/web/deployments?limit=5")
    human = zpanel("deployments", "web")
    assert "build:1.50s deploy:1.50s" in human.stdout


def test_rollback_sends_the_chosen_deployment(zpanel, fake: Fake) -> None:
    r = zpanel("rollback", "web", "--to", "dep-0", "--json")
    assert (r.code, r.json()) == (0, {"deployment_id": "dep-rb", "status": "queued"})
    assert fake.requests[-1] == ("POST", "/api/v1/applications/web/redeploy", '{"deployment_id":"dep-0"}')
    assert zpanel("rollback", "web").code == 0
    assert fake.requests[-1] == ("POST", "/api/v1/applications/web/redeploy", "{}")


def test_cancel_and_cancel_of_an_ended_deployment(zpanel, fake: Fake) -> None:
    fake.outcomes["web"] = ("succeeded", None)
    assert zpanel("deploy", "web").code == 0
    ended = zpanel("cancel", "dep-1", "--json")
    assert (ended.code, ended.stdout, ended.stderr) == (1, "", "zpanel: deployment dep-1 already ended\n")
    r = zpanel("cancel", "dep-7", "--json")
    assert (r.code, r.json()) == (0, {"deployment_id": "dep-7", "status": "cancelled"})


def test_follow_gives_up_at_its_timeout_saying_how_to_resume(zpanel, fake: Fake) -> None:
    fake.outcomes["web"] = ("deploying", None)
    assert zpanel("deploy", "web").code == 0
    fake.ws_hangs.add("dep-1")
    with Api() as api, pytest.raises(CliError) as exc:
        follow(api, "dep-1", quiet=True, timeout=0.6)
    fake.ws_hangs.clear()
    assert str(exc.value) == "deployment dep-1 has not ended after 1s; follow it with `zpanel logs dep-1 --follow`"
