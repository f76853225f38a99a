"""Dead letters: listed with their reason, replayed by a CSRF-guarded button."""

from __future__ import annotations

from tests.dashboard.dashstack import Dash, dash_fixture  # noqa: F401
from zpanel.events import DeadLetter, DeploymentRequested


async def test_list_and_replay(dash: Dash) -> None:
    await dash.sign_in()
    assert "No dead letters" in (await dash.get("/dlq")).text
    letter = DeadLetter(
        stage="builder",
        subject="deployment.requested.local",
        stream="PIPELINE",
        stream_seq=41,
        consumer="builder_local",
        reason="git clone failed: repository not found",
        num_delivered=3,
        headers={"Nats-Msg-Id": "deployment.requested:d1"},
        data=DeploymentRequested(
            deployment_id="d1", app_id="a1", server_id="local", trigger="manual"
        ).model_dump_json(),
        deployment_id="d1",
    )
    seq = await dash.api.bus.publish(letter, msg_id="dlq:PIPELINE:41")
    r = await dash.get("/dlq")
    assert f'<tr data-id="{seq}"><td class="mono">{seq}</td>' in r.text
    assert "<td>builder</td><td><code>deployment.requested.local</code></td>" in r.text
    assert '<td class="reason-cell">git clone failed: repository not found</td>' in r.text
    assert f'<form method="post" action="/dlq/{seq}/replay" class="inline">' in r.text

    assert (await dash.post(f"/dlq/{seq}/replay", {})).status_code == 403
    assert [d["id"] for d in (await dash.api.request("GET", "/api/v1/dlq")).json()] == [seq]

    r = await dash.post(f"/dlq/{seq}/replay", {"csrf": dash.csrf()})
    assert r.status_code == 303
    assert r.headers["location"].startswith(f"/dlq?replayed={seq}&replayed_as=")
    page = await dash.get(r.headers["location"])
    as_seq = r.headers["location"].rsplit("=", 1)[1]
    assert f'<p class="flash" role="status">Dead letter {seq} replayed as message {as_seq}.</p>' in page.text
    assert "No dead letters" in page.text
    r = await dash.post(f"/dlq/{seq}/replay", {"csrf": dash.csrf()})
    assert r.status_code == 404
    assert f"no dead letter {seq}" in r.text
