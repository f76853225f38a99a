"""Faults in the real stack: each of the six services, then nats-server, killed with SIGKILL in the
middle of a deployment. The supervisor restarts it, and the deployment still succeeds with exactly
one container per replica, serving through Traefik, notified exactly once.

Each kill lands at the moment that hurts its service most, found by watching the deployment from
outside: the builder inside a slow build step, the deployer the instant Docker starts the new
container (before it could report it), or a rolling update's second replica, health while a slow app is still starting, proxy-sync while
it verifies a route to an app that answers slowly, the notifier while its request is in flight,
the gateway (projection and API) in the middle of a build."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.apps import site, slow_root
from tests.e2e.observe import docker_events
from tests.e2e.receiver import Receiver, parsed
from tests.e2e.stack import Stack, containers, new_app, until

pytestmark = [pytest.mark.xdist_group("e2e-stack"), pytest.mark.docker, pytest.mark.slow]

App = dict[str, Any]


def in_build_step(stack: Stack, dep_id: str, app: App) -> None:
    stack.wait_status(dep_id, {"building"})
    until("the slow build step", lambda: any(f"building {app['name']}" in ln for ln in stack.logs(dep_id)), 30, 0.05)


def at_container_start(stack: Stack, dep_id: str, app: App) -> None:
    with docker_events(dep_id) as events:
        assert events.stdout is not None
        assert events.stdout.readline().strip(), "docker events ended before the container started"


def at_second_replica_start(stack: Stack, dep_id: str, app: App) -> None:
    """A rolling update's second round: replica 1 was routed, the deployer started replica 2."""
    with docker_events(dep_id) as events:
        assert events.stdout is not None
        for _ in range(2):
            assert events.stdout.readline().strip(), "docker events ended before the second replica started"


def in_pre_deploy(stack: Stack, dep_id: str, app: App) -> None:
    stack.wait_status(dep_id, {"deploying"})
    until("the pre-deployment command", lambda: any("pre-deployment" in ln for ln in stack.logs(dep_id)), 30, 0.05)


def status_is(status: str) -> Callable[[Stack, str, App], None]:
    def wait(stack: Stack, dep_id: str, app: App) -> None:
        stack.wait_status(dep_id, {status})

    return wait


@dataclass(frozen=True)
class Fault:
    files: Callable[[str], dict[str, str]]
    moment: Callable[[Stack, str, App], None]
    status: tuple[str, ...] | None  # its possible statuses right after the kill (None: the API died)
    fields: dict[str, Any] = field(default_factory=dict)
    service: str = ""  # the process killed, when the case's name is not it

    def victim(self, case: str) -> str:
        return self.service or case


FAULTS = {
    "webhook-gateway": Fault(lambda v: site(v, build_sleep=2), in_build_step, None),
    "builder": Fault(lambda v: site(v, build_sleep=2), in_build_step, ("building",)),
    # the container has started; deploy.done may already be out (a start takes ~10 ms of API calls)
    "deployer": Fault(site, at_container_start, ("deploying", "health_checking")),
    # certainly mid-stage: a 3 s pre-deployment command is running
    "deployer-pre-deploy": Fault(site, in_pre_deploy, ("deploying",), {"pre_deploy": "sleep 3"}, service="deployer"),
    # a rolling update of two replicas, between its rounds (its route stage runs until the last)
    "deployer-rolling": Fault(
        site, at_second_replica_start, ("routing",), {"strategy": "rolling", "replicas": 2}, service="deployer"
    ),
    "health": Fault(
        lambda v: site(v, start_sleep=3),
        status_is("health_checking"),
        ("health_checking",),
        {"health": {"path": "/", "interval": 0.2, "timeout": 2, "retries": 2, "start_period": 30}},
    ),
    "proxy-sync": Fault(
        slow_root,
        status_is("routing"),
        ("routing",),
        {"health": {"path": "/health.txt", "interval": 0.2, "timeout": 2, "retries": 2, "start_period": 3}},
    ),
}


def check_live(stack: Stack, notes: Receiver, app: App, dep_id: str, version: str) -> dict[str, Any]:
    dep = stack.wait_done(dep_id, timeout=120)
    assert dep["status"] == "succeeded", dep["error"]
    assert len(containers("zpanel.deployment", dep_id)) == app.get("replicas", 1)
    assert containers("zpanel.app", app["id"]) == containers("zpanel.deployment", dep_id)
    page = stack.page(app["domains"][0])
    served = (page.status_code, page.text, page.headers["X-Zpanel-Deployment"])
    assert served == (200, f"hello from {version}\n", dep_id)
    arrived = notes.wait(app["name"])
    assert [(parsed(a)["event"], parsed(a)["deployment_id"]) for a in arrived] == [("deployment.succeeded", dep_id)]
    return dep


@pytest.mark.parametrize("case", list(FAULTS))
def test_kill_9_of_a_service_mid_deployment(case: str, stack: Stack, notes: Receiver, tmp_path: Path) -> None:
    stack.wait_ready()
    fault = FAULTS[case]
    service = fault.victim(case)
    app, remote = new_app(stack, notes, tmp_path, f"kill-{case.split('-')[0]}", **fault.fields)
    dep_id = stack.push(app, remote, fault.files(app["name"]), f"deploy while {service} dies")
    fault.moment(stack, dep_id, app)
    if fault.status is None:
        assert stack.deployment(dep_id)["status"] == "building"
    before = stack.kill(service)
    if fault.status is not None:
        assert stack.deployment(dep_id)["status"] in fault.status
    stack.wait_restarted(service, before)
    check_live(stack, notes, app, dep_id, app["name"])


def test_kill_9_of_the_notifier_while_it_sends(stack: Stack, notes: Receiver, tmp_path: Path) -> None:
    """Killed with the notification in flight: the receiver has it once, and the redelivered event
    (after the notifier's ack wait) finds it claimed and sends nothing more."""
    stack.wait_ready()
    app, remote = new_app(stack, notes, tmp_path, "kill-notifier")
    arrived, release = notes.hold(app["name"])
    dep_id = stack.push(app, remote, site(app["name"]), "deploy while the notifier dies")
    assert arrived.wait(60), "no notification arrived"
    before = stack.kill("notifier")
    release.set()
    assert stack.deployment(dep_id)["status"] == "succeeded"
    stack.wait_restarted("notifier", before)
    check_live(stack, notes, app, dep_id, app["name"])
    webhook_id = notes.of(app["name"])[0].webhook_id

    def redelivery_seen() -> bool:
        lines = (stack.home / "logs" / "notifier.log").read_text().splitlines()
        seen = [json.loads(ln) for ln in lines if _is_json(ln)]
        return any(e.get("event") == "notification already sent" and e.get("delivery_id") == webhook_id for e in seen)

    until("the redelivered event to meet its claim", redelivery_seen, 90, 0.5)
    assert len(notes.of(app["name"])) == 1


def _is_json(line: str) -> bool:
    return line.startswith("{") and line.endswith("}")


def test_kill_9_of_nats_server_mid_deployment(stack: Stack, notes: Receiver, tmp_path: Path) -> None:
    stack.wait_ready()
    app, remote = new_app(stack, notes, tmp_path, "kill-nats")
    dep_id = stack.push(app, remote, site(app["name"], build_sleep=2), "deploy while NATS dies")
    in_build_step(stack, dep_id, app)
    before = stack.kill("nats")
    stack.wait_restarted("nats", before)
    check_live(stack, notes, app, dep_id, app["name"])
    stack.wait_ready()
