"""bench/memory/run.py starts the real stack, measures every process tree and stops it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.bench.helpers import figure, run_bench

pytestmark = pytest.mark.docker


def test_memory_bench_prints_each_process_tree(tmp_path: Path, busybox_image: str) -> None:
    doc = run_bench("memory", "--settle", "0", results=tmp_path, timeout=180)
    names = ["nats", "webhook-gateway", "builder", "deployer", "health", "proxy-sync", "notifier", "traefik"]
    assert [r["name"] for r in doc["services"]] == names
    assert doc["states"] == dict.fromkeys(names, "running")
    assert all(figure(r["rss_mb"]) and r["rss_mb"] > 0 and figure(r["pss_mb"]) for r in doc["services"])
    assert doc["control_plane_rss_mb"] == round(sum(r["rss_mb"] for r in doc["services"]), 1)
    assert all(not Path(f"/proc/{p}").exists() for r in doc["services"] for p in r["pids"])  # `down` stopped them
