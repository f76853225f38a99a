"""Recreate: for apps that cannot run twice (a single-writer database file, a singleton job).
Stop the old, start the new: a short downtime. The old containers are kept, stopped, until the new
ones are healthy, so a failed start can still bring the old version back."""

from __future__ import annotations

from zpanel_deployer.strategies.common import PlanInput
from zpanel_deployer.strategies.steps import Plan, RemoveOld, StartNew, Step, StopOld, Switch, WaitHealthy


def plan(p: PlanInput) -> Plan:
    steps: list[Step] = p.pre()
    if p.old:
        steps.append(StopOld(p.old_names))
    steps += [StartNew(r, name) for r, name in enumerate(p.new)]
    steps += [WaitHealthy(p.new), Switch(p.new)]
    if p.old:
        steps.append(RemoveOld(p.old_names))
    steps += p.post()
    return Plan("recreate", p.deployment_id, p.image, p.new, p.old, tuple(steps))
