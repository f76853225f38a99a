"""Deterministic ids: a redelivery maps to the same event and deployment."""

from __future__ import annotations

import re

from zpanel_webhook_gateway import conductor
from zpanel_webhook_gateway.idempotency import deployment_id_for, event_id_for


def test_deployment_id_is_stable_per_trigger_and_app() -> None:
    assert deployment_id_for("d-1", "app-a") == deployment_id_for("d-1", "app-a")
    assert (
        len({deployment_id_for("d-1", "app-a"), deployment_id_for("d-1", "app-b"), deployment_id_for("d-2", "app-a")})
        == 3
    )


def test_deployment_id_is_32_hex_characters_like_every_other_id() -> None:
    assert re.fullmatch(r"[0-9a-f]{32}", deployment_id_for("d-1", "app-a"))


def test_deployment_id_agrees_with_the_conductor_so_answers_name_the_deployments_the_intake_makes() -> None:
    assert deployment_id_for("d-1", "app-a") == conductor.deployment_id_for("d-1", "app-a")


def test_event_id_differs_by_provider_delivery_and_part() -> None:
    ids = {
        event_id_for("github", "d-1"),
        event_id_for("gitea", "d-1"),
        event_id_for("github", "d-2"),
        event_id_for("github", "d-1", "push\nmain"),
    }
    assert len(ids) == 4
    assert event_id_for("github", "d-1") == event_id_for("github", "d-1")


def test_ids_are_rfc4122_uuid5() -> None:
    import uuid

    from zpanel_webhook_gateway.idempotency import DEPLOYMENT_NAMESPACE, EVENT_NAMESPACE

    assert deployment_id_for("d-ü", "app") == uuid.uuid5(DEPLOYMENT_NAMESPACE, "d-ü:app").hex
    assert event_id_for("gitea", "d", "push\nmain") == uuid.uuid5(EVENT_NAMESPACE, "gitea\nd\npush\nmain").hex
