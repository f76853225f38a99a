"""bench/pipeline and bench/redeploys with one redeploy each still go through the whole pipeline
and print their figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bench.helpers import figure, run_bench

pytestmark = [pytest.mark.docker, pytest.mark.xdist_group("e2e")]


def test_pipeline_bench_prints_stage_times_and_the_overhead(tmp_path: Path, busybox_image: str) -> None:
    doc = run_bench("pipeline", "--runs", "1", results=tmp_path, timeout=180)
    (run,) = doc["raw"]
    assert run["cached_build"] == 0.0  # a new commit: built again, every layer from the cache
    parts = ("ovh_queue", "ovh_build_to_deploy", "ovh_deploy_to_probe", "ovh_route", "ovh_routed_to_seen")
    assert abs(sum(run[k] for k in parts) - run["overhead"]) < 1e-6
    assert run["push_to_live"] <= run["push_to_succeeded"]
    for key in ("push_to_live", "build", "container_start", "first_good_probe", "stage_route"):
        assert figure(doc["summary_s"][key]["p50"]) and doc["summary_s"][key]["p50"] <= doc["summary_s"][key]["p90"]


def test_redeploys_bench_counts_requests_during_a_redeploy(tmp_path: Path, busybox_image: str) -> None:
    doc = run_bench("redeploys", "--redeploys", "1", "--procs", "1", "--clients", "2", results=tmp_path, timeout=180)
    assert doc["served"] > 0 and doc["failed"] == sum(doc["failures"].values())
    assert figure(doc["push_to_live_s"]["p50"]) and figure(doc["request_latency_s"]["p99"])
