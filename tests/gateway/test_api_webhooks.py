"""POST /webhooks/{provider} on the real app and a real nats-server: signed → 202 with the
deployment id, exactly one push.received, the deployment queued (admitted by the intake; shown as
queued by the API in between); redelivery → the same answer and no second deployment (also past
JetStream's dedupe window); bad signature → 401 and nothing published."""

from __future__ import annotations

import asyncio

import pytest

from tests.gateway.apistack import CANARY, Api, admitted, api_fixture, count, make_api  # noqa: F401
from tests.gateway.helpers import body, github_headers
from tests.gateway.test_webhooks import VALID
from tests.harness.nats import NatsServer
from zpanel.models import Status
from zpanel_webhook_gateway.api.deps import Limits
from zpanel_webhook_gateway.idempotency import deployment_id_for

GH_REPO = "https://github.com/Codertocat/Hello-World.git"
GH_COMMIT = "6113728f27ae82c7b1a177c8d03f9e96e0adf246"


async def gh_app(api: Api, **fields: object) -> dict[str, object]:
    await api.add_local()
    return await api.create_app(webhook_secret=CANARY, branch="master", **fields)


async def test_signed_github_push_queues_one_deployment_and_publishes_one_event(api: Api) -> None:
    created = await gh_app(api)
    raw = body("github", "push.json")
    r = await api.request("POST", "/webhooks/github", content=raw, headers=github_headers(raw, "push", CANARY, "gh-1"))
    assert r.status_code == 202
    (dep_id,) = r.json()["deployment_ids"]
    assert r.json() == {"status": "queued", "delivery_id": "gh-1", "deployment_ids": [dep_id]}

    shown = (await api.request("GET", f"/api/v1/deployments/{dep_id}")).json()
    assert (shown["status"], shown["app"], shown["app_id"], shown["commit"], shown["trigger"]) == (
        "queued",
        "web",
        created["id"],
        GH_COMMIT,
        "push",
    )
    assert await count(api.bus, "PUSH", "push.received") == 1
    # the intake admits the event's deployment under the id the answer promised
    await admitted(api.bus)
    assert (await api.state.deployments.get(dep_id)).status is Status.QUEUED
    assert [d.id for d in await api.state.app_deployments(str(created["id"]))] == [dep_id]


async def test_redelivery_answers_the_same_and_publishes_nothing(api: Api) -> None:
    await gh_app(api)
    raw = body("github", "push.json")
    headers = github_headers(raw, "push", CANARY, "gh-2")
    first = await api.request("POST", "/webhooks/github", content=raw, headers=headers)
    again = await api.request("POST", "/webhooks/github", content=raw, headers=headers)
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json() == first.json()
    assert await count(api.bus, "PUSH", "push.received") == 1
    await admitted(api.bus)
    assert len(await api.state.deployments.all()) == 1


async def test_redelivery_after_the_dedupe_window_still_does_nothing(own_nats: NatsServer) -> None:
    made, _ = await make_api(own_nats.url, duplicate_window_s=0.5)
    try:
        await gh_app(made)
        raw = body("github", "push.json")
        headers = github_headers(raw, "push", CANARY, "gh-3")
        first = await made.request("POST", "/webhooks/github", content=raw, headers=headers)
        await admitted(made.bus)
        await asyncio.sleep(0.7)  # past the stream's duplicate window: stored again, admitted if absent
        again = await made.request("POST", "/webhooks/github", content=raw, headers=headers)
        assert (first.status_code, again.status_code, again.json()) == (202, 202, first.json())
        assert await count(made.bus, "PUSH", "push.received") == 2
        await admitted(made.bus)
        assert [d.id for d in await made.state.deployments.all()] == first.json()["deployment_ids"]
    finally:
        await made.client.aclose()
        await made.bus.close()


async def test_bad_signature_is_401_and_publishes_nothing(api: Api) -> None:
    await gh_app(api)
    raw = body("github", "push.json")
    r = await api.request("POST", "/webhooks/github", content=raw, headers=github_headers(raw, "push", "wrong-secret"))
    assert r.status_code == 401
    assert r.json() == {
        "error": {
            "code": "bad_signature",
            "message": "the signature matches the webhook secret of no application deploying "
            "https://github.com/Codertocat/Hello-World.git",
        }
    }
    unsigned = {k: v for k, v in github_headers(raw, "push").items() if k != "X-Hub-Signature-256"}
    assert (await api.request("POST", "/webhooks/github", content=raw, headers=unsigned)).status_code == 401
    assert await count(api.bus, "PUSH", "push.received") == 0
    assert await api.state.deployments.all() == []


@pytest.mark.parametrize(("provider", "repo", "branch", "headers", "fixture", "commit"), VALID)
async def test_every_provider_queues_through_http(api: Api, provider, repo, branch, headers, fixture, commit) -> None:  # type: ignore[no-untyped-def]
    await api.add_local()
    await api.create_app(repo=repo, branch=branch, webhook_secret=CANARY)
    raw = body(provider, fixture)
    r = await api.request("POST", f"/webhooks/{provider}", content=raw, headers=headers(raw, CANARY))
    assert r.status_code == 202, r.text
    (dep_id,) = r.json()["deployment_ids"]
    await admitted(api.bus)
    dep = await api.state.deployments.get(dep_id)
    assert (dep.status, dep.commit, dep.trigger) == (Status.QUEUED, commit, "push")
    assert await count(api.bus, "PUSH", "push.received") == 1


async def test_ping_is_200_with_its_reason(api: Api) -> None:
    await gh_app(api, repo="https://github.com/Octocoders/Hello-World")
    raw = body("github", "ping.json")
    r = await api.request("POST", "/webhooks/github", content=raw, headers=github_headers(raw, "ping", CANARY, "p-1"))
    assert (r.status_code, r.json()) == (
        200,
        {"status": "ignored", "delivery_id": "p-1", "reason": "ping received: the webhook works"},
    )
    assert await count(api.bus, "PUSH", "push.received") == 0


async def test_malformed_unknown_provider_and_too_large(own_nats: NatsServer) -> None:
    made, _ = await make_api(own_nats.url, limits=Limits(max_body_bytes=1000))
    try:
        r = await made.request("POST", "/webhooks/github", content=b"{not json", headers={"X-GitHub-Event": "push"})
        assert (r.status_code, r.json()["error"]["code"]) == (400, "malformed_payload")
        r = await made.request("POST", "/webhooks/svn", content=b"{}")
        assert r.json() == {
            "error": {
                "code": "not_found",
                "message": "no webhook provider 'svn': use one of github, gitlab, bitbucket, gitea",
            }
        }
        assert r.status_code == 404
        raw = body("github", "push.json")
        r = await made.request("POST", "/webhooks/github", content=raw, headers=github_headers(raw, "push"))
        assert (r.status_code, r.json()) == (
            413,
            {
                "error": {
                    "code": "payload_too_large",
                    "message": "the payload is over 1000 bytes; no provider sends more",
                }
            },
        )
    finally:
        await made.client.aclose()
        await made.bus.close()


async def test_a_full_server_queue_is_429_with_retry_after(own_nats: NatsServer) -> None:
    made, _ = await make_api(own_nats.url, limits=Limits(max_open_per_server=1, queue_cache_s=0, retry_after_s=7))
    try:
        await gh_app(made)
        for name in ("a1", "a2"):
            await made.create_app(name=name, repo=f"https://example.org/x/{name}.git")
            assert (await made.request("POST", f"/api/v1/applications/{name}/deploy")).status_code == 202
        raw = body("github", "push.json")
        r = await made.request("POST", "/webhooks/github", content=raw, headers=github_headers(raw, "push", CANARY))
        assert (r.status_code, r.headers["retry-after"]) == (429, "7")
        assert r.json() == {
            "error": {
                "code": "queue_full",
                "message": "server 'local' has more than 1 deployments open; redeliver later",
            }
        }
        assert await count(made.bus, "PUSH", "push.received") == 0
        assert len(await made.state.deployments.all()) == 2
    finally:
        await made.client.aclose()
        await made.bus.close()


async def test_pull_request_of_an_app_with_previews_queues_a_preview(api: Api) -> None:
    created = await gh_app(api, repo="https://github.com/Codertocat/Hello-World", previews=True)
    raw = body("github", "pull_request.opened.json")
    r = await api.request(
        "POST", "/webhooks/github", content=raw, headers=github_headers(raw, "pull_request", CANARY, "pr-1")
    )
    assert r.status_code == 202, r.text
    (dep_id,) = r.json()["deployment_ids"]
    await admitted(api.bus)
    dep = await api.state.deployments.get(dep_id)
    # a preview runs as its own app (own containers and pr-2.<domain>), never replacing production
    assert (dep.trigger, dep.preview, dep.app_id) == ("preview", 2, f"{created['id']}-pr-2")
    assert dep_id == deployment_id_for(await _event_id(api), str(created["id"]))
    assert await count(api.bus, "PUSH", "pull_request.received") == 1


async def _event_id(api: Api) -> str:
    msg = await api.bus.js.get_msg("PUSH", subject="pull_request.received")
    return str(msg.headers["Nats-Msg-Id"]) if msg.headers else ""
