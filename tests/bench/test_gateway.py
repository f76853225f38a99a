"""bench/gateway/run.py with tiny parameters still measures both servers and prints its figures."""

from __future__ import annotations

from pathlib import Path

from tests.bench.helpers import figure, run_bench


def test_gateway_bench_prints_rates_latencies_and_the_ratio(tmp_path: Path) -> None:
    doc = run_bench(
        "gateway", "--seconds", "0.5", "--warmup", "0.2", "--apps", "3", "--connections", "2", results=tmp_path
    )
    for side in ("bare", "gateway"):
        s = doc[side]
        assert set(s["by_status"]) == {"202"}, s
        assert s["errors"] == {}
        assert all(figure(s[k]) for k in ("per_s", "p50_ms", "p99_ms")) and s["per_s"] > 0
        assert s["p50_ms"] <= s["p99_ms"]
    assert doc["deployment_records"] == doc["gateway"]["accepted_total"]  # every 202 left a record
    assert figure(doc["ratio"]) and figure(doc["gateway"]["cpu_ms_per_webhook"])
