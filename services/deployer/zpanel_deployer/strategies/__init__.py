"""Deployment strategies: each turns (application, deployment id, live containers, new image)
into a :class:`~zpanel_deployer.strategies.steps.Plan`. Pure; the executor walks the plan."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from zpanel.models import Application, ContainerRef
from zpanel_deployer.strategies import blue_green, recreate, rolling, zero_downtime
from zpanel_deployer.strategies.common import PlanInput
from zpanel_deployer.strategies.steps import Plan

DEFAULT_DRAIN_S = 30.0
"""The most a retirement waits for the old version's requests in flight (see ``steps.Drain``):
an idle version is retired at once, a slow request gets up to this long."""

_STRATEGIES: dict[str, Callable[[PlanInput], Plan]] = {
    "zero-downtime": zero_downtime.plan,
    "blue-green": blue_green.plan,
    "rolling": rolling.plan,
    "recreate": recreate.plan,
}


def plan_for(
    app: Application,
    deployment_id: str,
    live: Sequence[ContainerRef],
    image: str,
    *,
    drain_s: float | None = None,
) -> Plan:
    """``live``: the containers of the version serving now (other deployments of this app).
    ``drain_s``: the longest wait for the old version's connections; the app's ``drain_timeout``."""
    try:
        make = _STRATEGIES[app.strategy]
    except KeyError:
        raise ValueError(f"unknown strategy {app.strategy!r}: use one of {', '.join(_STRATEGIES)}") from None
    return make(PlanInput.of(app, deployment_id, live, image, app.drain_timeout if drain_s is None else drain_s))
