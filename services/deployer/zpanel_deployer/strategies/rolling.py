"""Rolling: replace replicas one at a time, each new one healthy and routed before its old
counterpart is drained and stopped. Old containers are removed only at the very end, so a failure
at any replica rolls back everything already replaced (see ``Plan.rollback``)."""

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
    old = p.old_names
    last = len(p.new) - 1
    for r, name in enumerate(p.new):
        steps += [StartNew(r, name), WaitHealthy((name,))]
        # route to the replaced replicas plus every old one not yet replaced; the last switch
        # leaves out the old replicas a scale-down drops (they are drained and stopped after it)
        steps.append(Switch(p.new[: r + 1] + (old[r + 1 :] if r < last else ())))
        if r < len(old):
            steps += [Drain((old[r],), p.drain_s), StopOld((old[r],))]
    extra = old[len(p.new) :]
    if extra:  # the app was scaled down: the last Switch already left these out
        steps += [Drain(extra, p.drain_s), StopOld(extra)]
    if old:
        steps.append(RemoveOld(old))
    steps += p.post()
    return Plan("rolling", p.deployment_id, p.image, p.new, p.old, tuple(steps))
