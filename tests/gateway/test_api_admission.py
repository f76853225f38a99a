"""Webhooks are answered once their event is durably stored; the intake admits them after. With the
intake held back: the 202 still names the deployment, the API shows it ``queued`` (not 404), a
burst counts toward the server's queue (429), and once the intake runs it creates exactly the
promised deployments — only for the applications whose own secret verified."""

from __future__ import annotations

from tests.gateway.apistack import CANARY, Api, admitted, count, make_api
from tests.gateway.helpers import body, github_headers
from tests.harness.nats import NatsServer
from zpanel.models import Status
from zpanel_webhook_gateway.api.deps import Limits
from zpanel_webhook_gateway.intake import Intake

GH_REPO = "https://github.com/Codertocat/Hello-World.git"
GH_COMMIT = "6113728f27ae82c7b1a177c8d03f9e96e0adf246"


async def _push(api: Api, delivery: str, secret: str = CANARY) -> tuple[int, dict[str, object]]:
    raw = body("github", "push.json")
    r = await api.request(
        "POST", "/webhooks/github", content=raw, headers=github_headers(raw, "push", secret, delivery)
    )
    return r.status_code, r.json()


async def _close(api: Api) -> None:
    await api.client.aclose()
    await api.bus.close()


async def test_a_promised_deployment_is_shown_queued_until_the_intake_creates_it(own_nats: NatsServer) -> None:
    api, _ = await make_api(own_nats.url, intake=False)
    try:
        await api.add_local()
        created = await api.create_app(webhook_secret=CANARY, branch="master")
        status, answer = await _push(api, "adm-1")
        assert status == 202
        (dep_id,) = answer["deployment_ids"]  # type: ignore[misc]
        assert await count(api.bus, "PUSH", "push.received") == 1
        assert await api.state.deployments.find(dep_id) is None  # stored as an event, not admitted yet

        shown = await api.request("GET", f"/api/v1/deployments/{dep_id}")
        assert shown.status_code == 200
        body_ = shown.json()
        assert (body_["id"], body_["status"], body_["app_id"], body_["commit"], body_["trigger"]) == (
            dep_id,
            "queued",
            created["id"],
            GH_COMMIT,
            "push",
        )

        await Intake(api.bus, api.conductor).start()
        await admitted(api.bus)
        dep = await api.state.deployments.get(dep_id)
        assert (dep.status, dep.app_id, dep.commit, dep.trigger) == (Status.QUEUED, created["id"], GH_COMMIT, "push")
        assert api.conductor.inflight.get(dep_id) is None
        assert (await api.request("GET", f"/api/v1/deployments/{dep_id}")).json()["created_at"] == (
            dep.created_at.isoformat()
        )
    finally:
        await _close(api)


async def test_a_burst_waiting_for_admission_counts_toward_the_queue(own_nats: NatsServer) -> None:
    api, _ = await make_api(own_nats.url, limits=Limits(max_open_per_server=1, queue_cache_s=0), intake=False)
    try:
        await api.add_local()
        await api.create_app(webhook_secret=CANARY, branch="master")
        assert [(await _push(api, d))[0] for d in ("burst-1", "burst-2", "burst-3")] == [202, 202, 429]
        assert await count(api.bus, "PUSH", "push.received") == 2
        await Intake(api.bus, api.conductor).start()
        await admitted(api.bus)
        assert len(await api.state.deployments.all()) == 2
    finally:
        await _close(api)


async def test_only_the_apps_whose_secret_verified_are_admitted(own_nats: NatsServer) -> None:
    api, _ = await make_api(own_nats.url)
    try:
        await api.add_local()
        mine = await api.create_app(name="mine", webhook_secret=CANARY, branch="master")
        await api.create_app(name="theirs", webhook_secret="another-secret-entirely", branch="master")
        status, answer = await _push(api, "adm-shared")
        assert status == 202
        await admitted(api.bus)
        assert [(d.id, d.app_id) for d in await api.state.deployments.all()] == [
            (answer["deployment_ids"][0], mine["id"])  # type: ignore[index]
        ]
    finally:
        await _close(api)


async def test_an_unknown_id_is_still_404(own_nats: NatsServer) -> None:
    api, _ = await make_api(own_nats.url, intake=False)
    try:
        r = await api.request("GET", "/api/v1/deployments/0123456789abcdef0123456789abcdef")
        assert (r.status_code, r.json()["error"]["code"]) == (404, "not_found")
    finally:
        await _close(api)
