"""The projection's pure rule (``apply``): monotonic status, and facts of late events kept."""

from __future__ import annotations

from zpanel.events import BuildDone, DeploymentRequested, DeploymentSucceeded
from zpanel.models import Deployment, Status
from zpanel_webhook_gateway.projection import apply

IDS = {"deployment_id": "d1", "app_id": "a1", "server_id": "local"}


def fresh() -> Deployment:
    return Deployment(id="d1", app_id="a1", app_name="shop", server_id="local")


def test_build_done_handled_after_success_keeps_the_image_but_not_the_status() -> None:
    dep = apply(fresh(), DeploymentSucceeded(**IDS))
    assert dep is not None and dep.status is Status.SUCCEEDED
    late = apply(dep.model_copy(deep=True), BuildDone(**IDS, image="shop:abc", commit="c" * 40))
    assert late is not None
    assert (late.status, late.image, late.commit) == (Status.SUCCEEDED, "shop:abc", "c" * 40)
    # the same event again changes nothing
    assert apply(late.model_copy(deep=True), BuildDone(**IDS, image="shop:abc", commit="c" * 40)) is None


def test_a_late_event_never_overwrites_what_the_record_has() -> None:
    dep = fresh().model_copy(update={"status": Status.FAILED, "image": "shop:old"})
    assert apply(dep, BuildDone(**IDS, image="shop:new")) is None
    assert apply(dep, DeploymentRequested(**IDS, trigger="push")) is None
