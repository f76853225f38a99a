"""The API client: discovery (env over stack.json), and transport failures as one line."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.harness.nats import free_port
from zpanel.cli import client
from zpanel.cli.errors import ApiError, CliError, UsageProblem


def test_discovery_prefers_the_environment_over_stack_json(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "stack.json").write_text(json.dumps({"api_url": "http://127.0.0.1:8000/", "token": "from-file"}))
    monkeypatch.setenv("ZPANEL_HOME", str(tmp_path))
    monkeypatch.delenv("ZPANEL_API_URL", raising=False)
    monkeypatch.delenv("ZPANEL_TOKEN", raising=False)
    assert client.discover() == client.Target("http://127.0.0.1:8000", "from-file")
    monkeypatch.setenv("ZPANEL_TOKEN", "from-env")
    assert client.discover() == client.Target("http://127.0.0.1:8000", "from-env")
    monkeypatch.setenv("ZPANEL_API_URL", "https://zpanel.example")
    assert client.discover() == client.Target("https://zpanel.example", "from-env")


def test_no_stack_and_no_environment_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZPANEL_HOME", str(tmp_path))
    monkeypatch.delenv("ZPANEL_API_URL", raising=False)
    monkeypatch.delenv("ZPANEL_TOKEN", raising=False)
    with pytest.raises(CliError) as exc:
        client.discover()
    assert str(exc.value) == (
        f"no Zpanel API found: start the local stack with `zpanel up` (looked in {tmp_path / 'stack.json'}), "
        "or set ZPANEL_API_URL and ZPANEL_TOKEN"
    )


def test_connection_refused_is_one_line() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with client.Api(client.Target(url, "t")) as api, pytest.raises(ApiError) as exc:
        api.get("/api/v1/applications")
    assert str(exc.value) == f"cannot reach the Zpanel API at {url}: is the stack running? (`zpanel up`)"


def answering(status: int, body: object) -> client.Api:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == "Bearer tok"
        return httpx.Response(status, json=body)

    api = client.Api(client.Target("http://api.test", "tok"))
    api.http = httpx.Client(
        base_url="http://api.test", headers=api.http.headers, transport=httpx.MockTransport(handler)
    )
    return api


def test_error_answers_become_one_line_each() -> None:
    with pytest.raises(ApiError) as unauthorized:
        answering(401, {"error": {"code": "unauthorized", "message": "bad token"}}).get("/x")
    assert unauthorized.value.status == 401
    with pytest.raises(UsageProblem) as validation:
        answering(422, {"detail": [{"loc": ["body", "port"], "msg": "Input should be less than 65536"}]}).post("/x", {})
    assert str(validation.value) == "port: Input should be less than 65536"
    with pytest.raises(ApiError) as conflict:
        answering(409, {"error": {"code": "conflict", "message": "deployment d1 already ended"}}).post("/x")
    assert (str(conflict.value), conflict.value.status, conflict.value.api_code) == (
        "deployment d1 already ended",
        409,
        "conflict",
    )
    assert answering(204, None).delete("/x") is None


def test_terminal_statuses_match_the_models() -> None:
    from zpanel.cli.follow import TERMINAL_NAMES
    from zpanel.models import TERMINAL

    assert {s.value for s in TERMINAL} == TERMINAL_NAMES
