"""Steady keep-alive load through a proxy from worker processes, and what they saw together:
shared by bench/switch and bench/redeploys."""

from __future__ import annotations

from collections import Counter
from typing import Any

from tests.harness import proxies


def load_worker(
    url: str, host: str, clients: int, retry_reused: bool, go: Any, stop: Any, out: Any, check_header: bool = False
) -> None:
    """``clients`` keep-alive clients through the proxy until told to stop; what they saw.
    ``check_header``: count answers whose deployment header is not ``dep-<body>`` (bench/switch's
    upstreams answer their version, and a switch must never mix one's header with another's body)."""
    go.wait()
    stream = proxies.RequestStream(url, host, clients=clients, max_seconds=3600, retry_reused=retry_reused).start()
    stop.wait()
    outcomes = stream.stop()
    mismatched = sum(1 for o in outcomes if o.status == 200 and o.served_by != f"dep-{o.body}") if check_header else 0
    out.put(
        {
            "served": sum(1 for o in outcomes if o.status == 200),
            "failed": Counter(o.error or f"HTTP {o.status}" for o in outcomes if o.status != 200),
            "mismatched_header": mismatched,
            "retried": len(stream.retried),
            "latencies": sorted(o.ended - o.started for o in outcomes)[:: max(1, len(outcomes) // 2000)],
        }
    )


def totals(parts: list[dict[str, Any]], elapsed: float) -> dict[str, Any]:
    """The workers' reports as one: served, failed (and why), retried, sorted latencies."""
    failed: Counter[str] = Counter()
    for p in parts:
        failed.update(p["failed"])
    served = sum(p["served"] for p in parts)
    return {
        "seconds": round(elapsed, 1),
        "served": served,
        "failed": sum(failed.values()),
        "failures": dict(failed),
        "retried_once_after_idle_close": sum(p["retried"] for p in parts),
        "requests_per_s": round(served / elapsed),
        "latencies": sorted(x for p in parts for x in p["latencies"]),
    }
