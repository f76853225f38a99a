"""bench/pickup/run.py with a handful of deployments prints a pickup row per consumer and event."""

from __future__ import annotations

from pathlib import Path

from tests.bench.helpers import figure, run_bench


def test_pickup_bench_prints_every_stage(tmp_path: Path) -> None:
    doc = run_bench("pickup", "--deployments", "4", "--rounds", "1", results=tmp_path)
    pairs = {(r["stage"], r["event"]): r["n"] for r in doc["rows"]}
    assert {k: v for k, v in pairs.items() if k[0] != "gateway projection"} == {
        ("builder", "deployment.requested"): 4,
        ("deployer", "build.done"): 4,
        ("deployer", "proxy.updated"): 4,
        ("health", "deploy.done"): 4,
        ("proxy", "health.passed"): 4,
        ("notifier", "deployment.succeeded"): 4,
    }
    assert pairs[("gateway projection", "deployment.succeeded")] == 4
    assert all(figure(r[k]) for r in doc["rows"] for k in ("p50_ms", "p99_ms", "max_ms"))
    assert figure(doc["stages_p99_ms"]) and figure(doc["all_p99_ms"])
