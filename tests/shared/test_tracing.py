"""Trace context survives publish → consume → publish → consume: one trace, one tree."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.shared.conftest import MakeBus
from zpanel.bus import Delivery
from zpanel.events import BuildDone, DeployDone, Event
from zpanel.telemetry import configure_tracing, tracer


async def test_spans_share_one_trace_across_publish_consume_publish(make_bus: MakeBus, uid: str) -> None:
    exporter = InMemorySpanExporter()
    configure_tracing("test", SimpleSpanProcessor(exporter))
    bus = await make_bus()
    done = asyncio.Event()

    async def deployer(event: Event, delivery: Delivery) -> None:
        await bus.publish(
            DeployDone(
                deployment_id=event.deployment_id or "", app_id="a", server_id=f"t{uid}", image="i", containers=[]
            )
        )

    async def health(event: Event, delivery: Delivery) -> None:
        done.set()

    await bus.consume(stage=f"dep{uid}", subjects=[f"build.done.t{uid}"], handler=deployer)
    await bus.consume(stage=f"hea{uid}", subjects=[f"deploy.done.t{uid}"], handler=health)
    with tracer().start_as_current_span("webhook") as root:
        await bus.publish(BuildDone(deployment_id=f"d{uid}", app_id="a", server_id=f"t{uid}", image="i"))
    await asyncio.wait_for(done.wait(), 10)
    await asyncio.sleep(0.05)

    trace_id = root.get_span_context().trace_id
    spans = [s for s in exporter.get_finished_spans() if s.context.trace_id == trace_id]
    names = [s.name for s in spans]
    assert "publish build.done" in names
    assert f"dep{uid} build.done.t{uid}" in names
    assert "publish deploy.done" in names
    assert f"hea{uid} deploy.done.t{uid}" in names
    by_id = {s.context.span_id: s for s in spans}
    # every span but the root has its parent in this same trace: one tree
    for s in spans:
        if s.name != "webhook":
            assert s.parent is not None and s.parent.span_id in by_id, s.name
    chain = by_id[next(s for s in spans if s.name == f"hea{uid} deploy.done.t{uid}").context.span_id]
    hops = []
    while chain.parent is not None:
        hops.append(chain.name)
        chain = by_id[chain.parent.span_id]
    assert hops == [
        f"hea{uid} deploy.done.t{uid}",
        "publish deploy.done",
        f"dep{uid} build.done.t{uid}",
        "publish build.done",
    ]


def test_without_an_exporter_spans_are_not_recorded_but_the_trace_still_flows() -> None:
    """A fresh process with no OTLP endpoint: spans cost no recording, yet the traceparent a
    message carries names the same trace in the next service, under a new span id."""
    script = """
import json
from opentelemetry import trace
from zpanel import telemetry
telemetry.configure_tracing("probe")
with telemetry.tracer().start_as_current_span("publish") as root:
    headers = telemetry.inject({})
with telemetry.tracer().start_as_current_span("consume", context=telemetry.extract(headers)) as child:
    pass
print(json.dumps({
    "recording": [root.is_recording(), child.is_recording()],
    "traceparent": headers.get("traceparent", ""),
    "root": format(root.get_span_context().trace_id, "032x"),
    "child": format(child.get_span_context().trace_id, "032x"),
    "ids": [root.get_span_context().span_id != child.get_span_context().span_id],
}))
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    got = json.loads(out.stdout)
    assert got["recording"] == [False, False]
    assert got["root"] != "0" * 32 and got["child"] == got["root"]
    assert got["traceparent"].startswith(f"00-{got['root']}-")
    assert got["ids"] == [True]
