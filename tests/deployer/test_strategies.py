"""Every strategy's plan by exact value, and the rollback each plan implies."""

from typing import Any

import pytest

from tests.deployer.helpers import DEP, app, new, old
from zpanel_deployer.strategies import plan_for
from zpanel_deployer.strategies.steps import (
    Drain,
    PostDeploy,
    PreDeploy,
    RemoveNew,
    RemoveOld,
    StartNew,
    StartOld,
    StopOld,
    Switch,
    WaitHealthy,
)

O0, O1, O2 = (c.name for c in old(3))
N0, N1 = new(0), new(1)


def test_zero_downtime_with_pre_and_post_deploy() -> None:
    plan = plan_for(app(pre_deploy="./migrate", post_deploy="./warm"), DEP, old(1), "img", drain_s=3)
    assert plan.new == (N0,)
    assert plan.steps == (
        PreDeploy("./migrate"),
        StartNew(0, N0),
        WaitHealthy((N0,)),
        Switch((N0,)),
        Drain((O0,), 3),
        StopOld((O0,)),
        RemoveOld((O0,)),
        PostDeploy("./warm", N0),
    )
    assert plan.first_external() == 2
    assert plan.after_switch() == 4


def test_zero_downtime_first_deployment_has_nothing_to_retire() -> None:
    plan = plan_for(app(replicas=2), DEP, [], "img")
    assert plan.steps == (StartNew(0, N0), StartNew(1, N1), WaitHealthy((N0, N1)), Switch((N0, N1)))


def test_own_containers_of_a_redelivered_deployment_are_never_old() -> None:
    mine = old(1, dep=DEP[:12])
    plan = plan_for(app(), DEP, mine + old(1), "img", drain_s=0)
    assert plan.old == tuple(old(1))


def test_blue_green_stops_but_keeps_the_old_version() -> None:
    plan = plan_for(app(strategy="blue-green", replicas=2), DEP, old(2), "img", drain_s=1)
    assert plan.steps == (
        StartNew(0, N0),
        StartNew(1, N1),
        WaitHealthy((N0, N1)),
        Switch((N0, N1)),
        Drain((O0, O1), 1),
        StopOld((O0, O1)),
    )


def test_rolling_replaces_one_replica_at_a_time_and_removes_old_last() -> None:
    plan = plan_for(app(strategy="rolling", replicas=2), DEP, old(2), "img", drain_s=1)
    assert plan.steps == (
        StartNew(0, N0),
        WaitHealthy((N0,)),
        Switch((N0, O1)),
        Drain((O0,), 1),
        StopOld((O0,)),
        StartNew(1, N1),
        WaitHealthy((N1,)),
        Switch((N0, N1)),
        Drain((O1,), 1),
        StopOld((O1,)),
        RemoveOld((O0, O1)),
    )


def test_rolling_scale_down_retires_the_extra_old_replica() -> None:
    plan = plan_for(app(strategy="rolling", replicas=1), DEP, old(3), "img", drain_s=1)
    assert plan.steps == (
        StartNew(0, N0),
        WaitHealthy((N0,)),
        Switch((N0,)),  # not to O1, O2: they are stopped right after, and nothing switches again
        Drain((O0,), 1),
        StopOld((O0,)),
        Drain((O1, O2), 1),
        StopOld((O1, O2)),
        RemoveOld((O0, O1, O2)),
    )


def test_rolling_is_handed_to_health_and_proxy_once_per_replica() -> None:
    """The pipeline's view of a rolling plan (steps as in the test above): batch k resumes after
    Switch k, routes to Switch k's containers, and fails at its own WaitHealthy or Switch."""
    plan = plan_for(app(strategy="rolling", replicas=2), DEP, old(2), "img", drain_s=1)
    assert plan.batches == 2
    assert (plan.after_switch(1), plan.after_switch(2), plan.after_switch()) == (3, 8, 8)
    assert (plan.route(1), plan.route(2)) == ((N0, O1), (N0, N1))
    assert (plan.step_of(WaitHealthy, 1), plan.step_of(WaitHealthy, 2)) == (1, 6)
    assert (plan.step_of(Switch, 1), plan.step_of(Switch, 2)) == (2, 7)
    assert [plan.batch_at(i) for i in range(len(plan.steps))] == [1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3]
    # batch 1's failures undo nothing the proxy saw; from batch 2 on, traffic reached N0
    assert (plan.switched_before(1), plan.switched_before(2), plan.switched_before(6)) == (False, False, True)
    assert plan.revert_point() == 7
    assert plan.rollback(plan.revert_point()) == (StartOld((O0,)), Switch((O0, O1)), RemoveNew((N0, N1)))


def test_every_other_strategy_is_one_batch() -> None:
    for strategy in ("zero-downtime", "blue-green", "recreate"):
        plan = plan_for(app(strategy=strategy, replicas=2), DEP, old(2), "img", drain_s=1)
        assert plan.batches == 1
        assert plan.after_switch(1) == plan.after_switch()
        assert plan.route(1) == (N0, N1)
        assert not plan.switched_before(plan.step_of(Switch, 1))


def test_recreate_stops_old_before_starting_new() -> None:
    plan = plan_for(app(strategy="recreate"), DEP, old(1), "img")
    assert plan.steps == (StopOld((O0,)), StartNew(0, N0), WaitHealthy((N0,)), Switch((N0,)), RemoveOld((O0,)))


def test_rollback_before_the_switch_only_removes_the_new() -> None:
    plan = plan_for(app(replicas=2), DEP, old(1), "img")
    handoff = plan.first_external()
    assert handoff == 2
    assert plan.rollback(handoff + 1) == (RemoveNew((N0, N1)),)


def test_rollback_of_rolling_after_one_replaced_replica_restores_it() -> None:
    plan = plan_for(app(strategy="rolling", replicas=2), DEP, old(2), "img", drain_s=1)
    # replica 1's health check (step 6) failed
    assert plan.rollback(7) == (StartOld((O0,)), Switch((O0, O1)), RemoveNew((N0, N1)))


def test_rollback_of_recreate_starts_the_old_again() -> None:
    plan = plan_for(app(strategy="recreate"), DEP, old(1), "img")
    assert plan.rollback(3) == (StartOld((O0,)), RemoveNew((N0,)))


def test_rollback_of_a_failed_pre_deploy_changes_nothing() -> None:
    plan = plan_for(app(pre_deploy="false"), DEP, old(1), "img")
    assert plan.rollback(1) == ()


def test_rollback_past_removing_the_old_is_refused() -> None:
    plan = plan_for(app(), DEP, old(1), "img")
    with pytest.raises(ValueError, match="cannot roll back past the removal"):
        plan.rollback(len(plan.steps))


def test_the_drain_bound_is_the_applications_unless_given() -> None:
    def drains(plan: Any) -> list[float]:
        return [s.seconds for s in plan.steps if isinstance(s, Drain)]

    assert drains(plan_for(app(drain_timeout=7.5), DEP, old(1), "img")) == [7.5]
    assert drains(plan_for(app(), DEP, old(1), "img")) == [30.0]
    assert drains(plan_for(app(drain_timeout=7.5), DEP, old(1), "img", drain_s=1)) == [1]
