"""bench/pipeline: push → live for a cached redeploy of a tiny app (busybox httpd) through the
whole pipeline, the time in each stage, and the orchestration overhead.

    .venv/bin/python bench/pipeline/run.py [--runs 10] [--proxy traefik|caddy] [--json]

overhead = push→live − (build + container start + first good probe). See README.md.
Exits 1 when a target is missed (p50 push→live ≤ 1.5 s, p50 overhead ≤ 0.1 s).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.pipeline.rig import redeploy, rig, stats
from tests.harness import images

TARGET_TOTAL, TARGET_OVERHEAD = 1.5, 0.1
ORDER = [
    "push_to_live",
    "build",
    "container_start",
    "first_good_probe",
    "overhead",
    "ovh_queue",
    "ovh_build_to_deploy",
    "ovh_deploy_to_probe",
    "ovh_route",
    "ovh_routed_to_seen",
    "stage_queue",
    "stage_build",
    "stage_deploy",
    "stage_health",
    "stage_route",
    "stage_finish",
    "push_to_succeeded",
]


async def bench(runs: int, kind: str) -> list[dict[str, float]]:
    async with rig(kind) as r:
        return [await redeploy(r) for _ in range(runs)]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--proxy", choices=["traefik", "caddy"], default="traefik")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--results", type=Path, default=Path(__file__).parent / "results", help="where the JSON goes")
    args = parser.parse_args()
    if not images.docker_available():
        sys.exit("no Docker engine answers: start dockerd")
    runs = asyncio.run(bench(args.runs, args.proxy))
    summary: dict[str, Any] = {k: stats([r[k] for r in runs]) for k in ORDER if all(k in r for r in runs)}
    result = {
        "proxy": args.proxy,
        "runs": len(runs),
        "cached_builds": int(sum(r["cached_build"] for r in runs)),
        "load_average": round(os.getloadavg()[0], 1),
        "summary_s": summary,
        "raw": runs,
    }
    out = args.results
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{time.strftime('%Y%m%dT%H%M%S')}.json").write_text(json.dumps(result, indent=2) + "\n")
    total, overhead = summary["push_to_live"]["p50"], summary["overhead"]["p50"]
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"{len(runs)} cached redeploys through the whole pipeline ({args.proxy}), seconds;"
            f" machine load average {result['load_average']}"
        )
        print(f"  {'':<20} {'p50':>7} {'p90':>7} {'min':>7} {'max':>7}")
        for key, s in summary.items():
            print(f"  {key:<20} {s['p50']:7.3f} {s['p90']:7.3f} {s['min']:7.3f} {s['max']:7.3f}")
        print(
            f"  targets: push→live p50 ≤ {TARGET_TOTAL} s {'met' if total <= TARGET_TOTAL else 'MISSED'},"
            f" overhead p50 ≤ {TARGET_OVERHEAD} s {'met' if overhead <= TARGET_OVERHEAD else 'MISSED'}"
        )
    sys.exit(0 if total <= TARGET_TOTAL and overhead <= TARGET_OVERHEAD else 1)


if __name__ == "__main__":
    main()
