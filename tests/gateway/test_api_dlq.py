"""Dead letters over HTTP: listed with their DLQ sequence, replayed onto their original subject."""

from __future__ import annotations

from tests.gateway.apistack import Api, api_fixture, count  # noqa: F401
from zpanel.events import DeadLetter, DeploymentRequested


async def test_list_and_replay(api: Api) -> None:
    assert (await api.request("GET", "/api/v1/dlq")).json() == []
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
    seq = await api.bus.publish(letter, msg_id="dlq:PIPELINE:41")
    r = await api.request("GET", "/api/v1/dlq")
    assert r.json() == [
        {
            "id": seq,
            "stage": "builder",
            "subject": "deployment.requested.local",
            "reason": "git clone failed: repository not found",
            "num_delivered": 3,
            "deployment_id": "d1",
            "failed_at": letter.timestamp.isoformat(),
        }
    ]
    r = await api.request("POST", f"/api/v1/dlq/{seq}/replay")
    assert r.status_code == 202
    assert r.json() == {"id": seq, "replayed_as": r.json()["replayed_as"]}
    replayed = await api.bus.js.get_msg("PIPELINE", r.json()["replayed_as"])
    assert (replayed.subject, replayed.data) == ("deployment.requested.local", letter.data.encode())
    assert (await api.request("GET", "/api/v1/dlq")).json() == []
    r = await api.request("POST", f"/api/v1/dlq/{seq}/replay")
    assert (r.status_code, r.json()["error"]) == (
        404,
        {"code": "not_found", "message": f"no dead letter {seq}: `zpanel dlq list` shows the ids"},
    )
    assert (await api.request("POST", "/api/v1/dlq/0/replay")).status_code == 404
    assert (await api.request("POST", "/api/v1/dlq/abc/replay")).status_code == 422
