"""One deployment is one trace: the signed webhook request, then a span per stage in each of the
six services (gateway, builder, deployer, health, proxy-sync, notifier), linked through the NATS
headers into one tree."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.builder.helpers import make_repo
from tests.e2e.pipeline import app_named, platform, remove_app_containers
from tests.gateway.helpers import FIXTURES, github_headers
from tests.harness import proxies
from tests.harness.nats import NatsServer
from zpanel.models import Status
from zpanel.telemetry import configure_tracing
from zpanel_webhook_gateway.app import create_app

pytestmark = [pytest.mark.xdist_group("e2e"), pytest.mark.docker]


def github_push(repo: Path, commit: str) -> bytes:
    doc = json.loads((FIXTURES / "github" / "push.json").read_text())
    doc["ref"] = "refs/heads/main"
    doc["after"] = commit
    doc["head_commit"]["id"] = commit
    doc["head_commit"]["message"] = "deploy me"
    for key in ("clone_url", "html_url", "git_url", "ssh_url", "svn_url", "url"):
        doc["repository"][key] = str(repo)
    return json.dumps(doc).encode()


async def test_a_deployment_is_one_trace_across_the_six_services(
    own_nats: NatsServer, tmp_path: Path, busybox_image: str
) -> None:
    exporter = InMemorySpanExporter()
    configure_tracing("e2e", SimpleSpanProcessor(exporter))
    repo = tmp_path / "repo"
    commit = make_repo(
        repo, {"Dockerfile": "FROM zpanel-test/busybox:1\nCOPY www /www\n", "www/index.html": "traced\n"}
    )
    secret = "a-webhook-secret-for-the-trace"
    try:
        with proxies.traefik(tmp_path / "traefik", tls=False) as proxy:
            async with platform(own_nats.url, tmp_path / "home", proxy) as zp:
                app = app_named("trace", repo).model_copy(
                    update={"webhook_secret": zp.cipher.seal(secret), "notify": [zp.cipher.seal("json://127.0.0.1:9/")]}
                )
                await zp.state.create_app(app)
                web = create_app(zp.bus, zp.state, zp.conductor, zp.cipher, zp.settings)
                raw = github_push(repo, commit)
                async with httpx.AsyncClient(transport=httpx.ASGITransport(app=web), base_url="http://gw") as client:
                    r = await client.post(
                        "/webhooks/github", content=raw, headers=github_headers(raw, "push", secret, "trace-1")
                    )
                assert r.status_code == 202, r.text
                [dep_id] = r.json()["deployment_ids"]
                dep = await zp.wait(dep_id)
                assert dep.status is Status.SUCCEEDED, dep.error
                await asyncio.sleep(0.5)  # the notifier handles the terminal event last
    finally:
        remove_app_containers(app.id)

    spans = exporter.get_finished_spans()
    roots = [s for s in spans if s.parent is None]
    root = next((s for s in roots if s.name.startswith("POST /webhooks/")), None)
    assert root is not None, [s.name for s in roots]
    trace_spans = [s for s in spans if s.context.trace_id == root.context.trace_id]
    names = {s.name for s in trace_spans}
    for stage in (
        "builder deployment.requested.local",  # builder
        "deployer build.done.local",  # deployer
        "health deploy.done.local",  # health
        "proxy health.passed.local",  # proxy-sync
        "deployer proxy.updated.local",  # deployer retires the old version
        "notifier deployment.succeeded.local",  # notifier
        "projection deployment.succeeded.local",  # gateway's projection
    ):
        assert stage in names, (stage, sorted(names))
    ids = {s.context.span_id for s in trace_spans}
    assert all(s.parent is None or s.parent.span_id in ids for s in trace_spans)  # one tree
    assert sum(1 for s in trace_spans if s.parent is None) == 1
    by_name = {s.name: s for s in trace_spans}
    assert by_name["deployer build.done.local"].attributes["zpanel.deployment_id"] == dep_id
