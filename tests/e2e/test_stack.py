"""The real stack, as ``zpanel up --detach`` runs it (NATS, the six services and Traefik as
supervised processes): a ``git push`` and its signed GitHub webhook become a live version behind
Traefik and a signed notification; a version that fails its health check is rolled back; secrets
show nowhere; a second builder process shares the work without building anything twice."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from hashlib import sha256
from pathlib import Path

import pytest

from tests.e2e.apps import secret_site, site
from tests.e2e.observe import stored_messages, watching_processes
from tests.e2e.receiver import Receiver, parsed
from tests.e2e.stack import Stack, containers, new_app, until
from tests.harness import procs

pytestmark = [pytest.mark.xdist_group("e2e-stack"), pytest.mark.docker, pytest.mark.slow]

STAGES = ["queue", "build", "deploy", "health", "route", "finish"]


def test_push_webhook_to_live_through_traefik_and_notified(stack: Stack, notes: Receiver, tmp_path: Path) -> None:
    app, remote = new_app(stack, notes, tmp_path, "live")
    domain = app["domains"][0]

    first = stack.wait_done(stack.push(app, remote, site("v1"), "the first version"))
    assert first["status"] == "succeeded", first["error"]
    assert (first["trigger"], first["commit"]) == ("push", remote.head)
    assert [(s["name"], s["status"]) for s in first["stages"]] == [(n, "succeeded") for n in STAGES]
    page = stack.page(domain)
    assert (page.status_code, page.text, page.headers["X-Zpanel-Deployment"]) == (200, "hello from v1\n", first["id"])

    second = stack.wait_done(stack.push(app, remote, site("v2"), "the second version"))
    assert second["status"] == "succeeded", second["error"]
    page = stack.page(domain)
    assert (page.text, page.headers["X-Zpanel-Deployment"]) == ("hello from v2\n", second["id"])
    # the first version was retired: only the second one runs
    assert containers("zpanel.app", app["id"]) == containers("zpanel.deployment", second["id"])
    assert len(containers("zpanel.deployment", second["id"])) == 1

    docs = [parsed(a) for a in notes.wait(app["name"], 2)]
    assert [(d["event"], d["status"], d["deployment_id"], d["commit"]) for d in docs] == [
        ("deployment.succeeded", "succeeded", first["id"], first["commit"]),
        ("deployment.succeeded", "succeeded", second["id"], second["commit"]),
    ]
    assert docs[1]["url"] == f"http://{domain}:{stack.env['ZPANEL_PROXY_HTTP_PORT']}"


def test_a_failing_health_check_is_rolled_back_and_the_old_version_serves(
    stack: Stack, notes: Receiver, tmp_path: Path
) -> None:
    app, remote = new_app(stack, notes, tmp_path, "rollback")
    domain = app["domains"][0]
    good = stack.wait_done(stack.push(app, remote, site("v1"), "a good version"))
    assert good["status"] == "succeeded", good["error"]

    bad = stack.wait_done(stack.push(app, remote, site("v2", port=9999), "listen on the wrong port"))
    assert bad["status"] == "rolled_back"
    assert bad["error"].startswith(f"{app['name']}-") and "failed its health check" in bad["error"]
    page = stack.page(domain)
    assert (page.text, page.headers["X-Zpanel-Deployment"]) == ("hello from v1\n", good["id"])
    assert containers("zpanel.deployment", bad["id"], running_only=False) == []
    assert containers("zpanel.app", app["id"]) == containers("zpanel.deployment", good["id"])

    docs = [parsed(a) for a in notes.wait(app["name"], 2)]
    assert [(d["event"], d["deployment_id"]) for d in docs] == [
        ("deployment.succeeded", good["id"]),
        ("deployment.rolled_back", bad["id"]),
    ]
    assert (docs[1]["status"], docs[1]["reason"]) == ("rolled_back", bad["error"])


def test_a_secret_canary_never_shows(stack: Stack, notes: Receiver, tmp_path: Path) -> None:
    """A secret env value and a build-time secret, both printed by the app itself (the build log,
    the output of a version that then fails its health check), through a full deployment and a
    rolled-back one: each reaches its place, and appears in no service log, no stored message of
    any stream, no API answer, no notification and no process's command line."""
    app, remote = new_app(stack, notes, tmp_path, "canary")
    name, domain = app["name"], app["domains"][0]
    canary, build_canary = f"canary-{uuid.uuid4().hex}", f"canary-build-{uuid.uuid4().hex}"
    stack.ok("PUT", f"/api/v1/applications/{name}/env/DB_PASSWORD", {"value": canary, "secret": True})
    body = {"value": build_canary, "secret": True, "build_time": True}
    stack.ok("PUT", f"/api/v1/applications/{name}/env/BUILD_TOKEN", body)

    with watching_processes() as watch:
        good = stack.wait_done(stack.push(app, remote, secret_site(f"{name} v1"), "use the secrets"))
        assert good["status"] == "succeeded", good["error"]
        bad = stack.wait_done(
            stack.push(app, remote, secret_site(f"{name} v2", port=9999), "print the secret, then fail")
        )
        assert bad["status"] == "rolled_back"
    assert stack.page(domain, "/run.sha").text.strip() == sha256(canary.encode()).hexdigest()
    assert stack.page(domain, "/build.sha").text.strip() == sha256(build_canary.encode()).hexdigest()

    # what a user reads (every answer is kept in stack.answers)
    for path in (f"/applications/{name}", f"/applications/{name}/env", f"/applications/{name}/deployments", "/dlq"):
        stack.ok("GET", f"/api/v1{path}")
    for dep in (good, bad):
        stack.ok("GET", f"/api/v1/deployments/{dep['id']}")
    stack.logs(bad["id"])
    # the build printed its token (BuildKit masks it as ***), the bad version its password
    assert any(f"building {name} v1; build token is " in line for line in stack.logs(good["id"]))
    docs = [parsed(a) for a in notes.wait(name, 2)]
    assert "starting with DB_PASSWORD=********" in docs[1]["log_tail"]

    messages = stored_messages(stack.doc["nats_url"])
    assert {m.stream for m in messages} >= {"PUSH", "PIPELINE", "LOGS", "KV_applications", "KV_deployments"}
    places = {f"log file {n}": text for n, text in stack.log_text().items()}
    places |= {f"{m.stream} message #{m.seq} ({m.subject})": m.text() for m in messages}
    places |= {f"API answer #{i}": text for i, text in enumerate(stack.answers)}
    places |= {f"notification #{i}": a.body.decode() for i, a in enumerate(notes.arrivals)}
    places |= {f"process {pid}: {cmd[:60]}": cmd for pid, cmd in watch.seen}
    assert sum(good["id"] in text for text in places.values()) > 20  # the places do hold this deployment
    for secret in (canary, build_canary):
        assert [where for where, text in places.items() if secret in text] == []


@pytest.mark.timeout(300)
def test_two_builders_share_ten_deployments_and_build_each_once(stack: Stack, notes: Receiver, tmp_path: Path) -> None:
    log = stack.home / "logs" / "builder-2.log"
    second = procs.spawn(["-m", "zpanel_builder"], {**stack.env, "ZPANEL_NATS_URL": stack.doc["nats_url"]}, log)
    try:
        until("the second builder", lambda: "service.ready" in log.read_text(), 30, 0.1)
        builders = {stack.processes()["builder"]["pid"], second.pid}
        apps = [new_app(stack, notes, tmp_path, f"share{i}") for i in range(10)]
        with watching_processes() as watch:
            ids = [stack.push(app, remote, site(app["name"], build_sleep=1), "one push") for app, remote in apps]
            deps = [stack.wait_done(dep_id, timeout=150) for dep_id in ids]
    finally:
        stopped = procs.terminate(second, timeout=25)  # the consumers may use their 10 s grace + 2
    assert stopped == 0  # it drained and stopped on SIGTERM
    assert [(d["id"], d["status"]) for d in deps] == [(i, "succeeded") for i in ids]
    builds = watch.docker_builds()
    assert {i: len(builds.get(i, ())) for i in ids} == {i: 1 for i in ids}
    assert {ppid for i in ids for _, ppid in builds[i]} == builders  # both took their share
    started = Counter(
        json.loads(m.data)["deployment_id"]
        for m in stored_messages(stack.doc["nats_url"])
        if m.subject == "build.started.local"
    )
    assert {i: started[i] for i in ids} == {i: 1 for i in ids}
    checkouts = {i: sum(line.startswith("checking out ") for line in stack.logs(i)) for i in ids}
    assert checkouts == {i: 1 for i in ids}
