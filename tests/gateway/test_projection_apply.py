"""The projection's pure rule (``apply``): monotonic status, and facts of late events kept."""

from __future__ import annotations

from zpanel.events import BuildDone, DeployDone, DeploymentRequested, DeploymentSucceeded, HealthPassed, ProxyUpdated
from zpanel.models import ContainerRef, Deployment, Status
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


def test_a_rolling_update_routes_until_its_last_batch() -> None:
    """Two replicas: deploy.done, health.passed, proxy.updated twice. The record lists the new
    replicas as they start, and its route stage runs until the second switch."""
    new = [ContainerRef(id=f"c{r}", name=f"shop-d1-{r}", address=f"127.0.0.1:{9000 + r}") for r in (0, 1)]
    dep = fresh()

    def after(*events: object) -> Deployment:
        nonlocal dep
        for event in events:
            dep = apply(dep.model_copy(deep=True), event) or dep  # type: ignore[arg-type]
        return dep

    def stages() -> dict[str, str]:
        return {st.name: st.status for st in dep.stages}

    after(
        DeployDone(**IDS, image="shop:1", containers=new[:1], batch=1, batches=2),
        HealthPassed(**IDS, containers=new[:1], batch=1, batches=2),
        ProxyUpdated(**IDS, batch=1, batches=2),
    )
    assert dep.status is Status.ROUTING and stages()["route"] == "running"
    assert [c.name for c in dep.containers] == ["shop-d1-0"]
    assert dep.routed_at is None  # no domains: nothing went through the proxy
    after(ProxyUpdated(**IDS, domains=["shop.example.com"], batch=1, batches=2))
    assert dep.routed_at is not None and stages()["route"] == "running"
    after(
        DeployDone(**IDS, image="shop:1", containers=new, batch=2, batches=2),
        HealthPassed(**IDS, containers=new, batch=2, batches=2),
    )
    assert dep.status is Status.ROUTING and stages()["route"] == "running"
    assert [c.name for c in dep.containers] == ["shop-d1-0", "shop-d1-1"]
    after(ProxyUpdated(**IDS, batch=2, batches=2))
    assert stages()["route"] == "succeeded" and stages()["finish"] == "running"
