"""Zero-downtime (the default): start every new replica beside the old ones, wait for health,
switch the proxy, drain and retire the old ones."""

from __future__ import annotations

from zpanel_deployer.strategies.common import PlanInput
from zpanel_deployer.strategies.steps import (
    Drain,
    Plan,
    RemoveOld,
    StartNew,
    Step,
    StopOld,
    Switch,
    WaitHealthy,
)


def plan(p: PlanInput) -> Plan:
    steps: list[Step] = p.pre()
    steps += [StartNew(r, name) for r, name in enumerate(p.new)]
    steps += [WaitHealthy(p.new), Switch(p.new)]
    if p.old:
        steps += [Drain(p.old_names, p.drain_s), StopOld(p.old_names), RemoveOld(p.old_names)]
    steps += p.post()
    return Plan("zero-downtime", p.deployment_id, p.image, p.new, p.old, tuple(steps))
