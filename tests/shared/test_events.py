"""Event models: the external push.received shape, parsing, the generated AsyncAPI document."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from zpanel import asyncapi
from zpanel.bus import codec
from zpanel.events import CATALOGUE, BuildDone, HealthPassed, LogLine, PushReceived, UnknownEventType, parse

ROOT = Path(__file__).resolve().parents[2]


def test_external_push_received_shape_from_the_contract() -> None:
    doc = {
        "type": "push.received",
        "version": 1,
        "provider": "external",
        "repo_url": "https://git.example.com/acme/shop.git",
        "branch": "main",
        "commit": "0123456789abcdef0123456789abcdef01234567",
        "pusher": "ci-bot",
    }
    event = parse(doc)
    assert isinstance(event, PushReceived)
    assert (event.repo_url, event.branch, event.commit, event.pusher) == (
        doc["repo_url"],
        "main",
        doc["commit"],
        "ci-bot",
    )
    assert event.event_id and event.timestamp.tzinfo is not None


def test_parse_rejects_unknown_types_and_bad_fields() -> None:
    with pytest.raises(UnknownEventType, match="unknown event type 'nope'"):
        parse({"type": "nope"})
    with pytest.raises(ValidationError):
        parse({"type": "push.received", "repo_url": "x", "branch": "main", "commit": "abc"})
    with pytest.raises(UnknownEventType, match="JSON object"):
        parse("[1, 2]")


def test_every_event_round_trips_its_type() -> None:
    for event_type, model in CATALOGUE.items():
        assert model.model_fields["type"].default == event_type


def test_subjects_and_message_ids() -> None:
    done = BuildDone(deployment_id="d1", app_id="a1", server_id="s1", image="app:abc")
    assert codec.subject_for(done) == "build.done.s1"
    assert codec.msg_id_for(done) == "build.done:d1"
    push = PushReceived(provider="github", repo_url="u", branch="main", commit="abcdef12", event_id="e1")
    assert codec.subject_for(push) == "push.received"
    assert codec.msg_id_for(push) == "e1"
    line = LogLine(deployment_id="d1", stage="build", line="hi")
    assert codec.subject_for(line) == "logs.d1"
    assert codec.msg_id_for(line) == line.event_id
    with pytest.raises(ValueError, match="server-bound"):
        codec.subject_for(BuildDone.model_construct(deployment_id="d", app_id="a", server_id=None, image="i"))


def test_asyncapi_document_is_current() -> None:
    committed = (ROOT / "docs" / "events.asyncapi.json").read_text()
    assert committed == asyncapi.render(), "run: .venv/bin/python -m zpanel.asyncapi > docs/events.asyncapi.json"
    doc = asyncapi.document()
    assert doc["channels"]["build_done"]["address"] == "build.done.{server_id}"
    assert doc["channels"]["push_received"]["address"] == "push.received"
    assert set(doc["components"]["messages"]) == {m.__name__ for m in CATALOGUE.values()}


def test_a_rolling_updates_later_batches_are_messages_of_their_own() -> None:
    """Batch 1 keeps the plain id (every other strategy is one batch); batch 2 of the same
    deployment must not be dropped by JetStream's duplicate window as a copy of batch 1."""
    ids = {"deployment_id": "d1", "app_id": "a1", "server_id": "s1", "containers": []}
    assert codec.msg_id_for(HealthPassed(**ids)) == "health.passed:d1"
    assert codec.msg_id_for(HealthPassed(**ids, batch=1, batches=3)) == "health.passed:d1"
    assert codec.msg_id_for(HealthPassed(**ids, batch=2, batches=3)) == "health.passed:d1:2"
    with pytest.raises(ValidationError):
        HealthPassed(**ids, batch=0)
