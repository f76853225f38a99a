"""bench/redeploys: failed requests during back-to-back redeploys under steady load through the
proxy, each redeploy going through the whole real pipeline (gateway conductor → builder →
deployer → health → proxy-sync → deployer retiring the old version).

    .venv/bin/python bench/redeploys/run.py [--redeploys 20] [--procs 2] [--clients 8]
                                            [--proxy traefik|caddy] [--upstream caddy|busybox] [--json]

bench/switch measures the proxy switch alone with the same load; this one adds everything the
pipeline does around it. Exits 1 when any request failed (target 0).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.load import load_worker, totals
from bench.pipeline.rig import percentile, redeploy, rig, stats
from tests.harness import images


async def redeploys(n: int, kind: str, upstream: str, procs: int, clients: int) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    go, stop, out = ctx.Event(), ctx.Event(), ctx.Queue()
    async with rig(kind, upstream) as r:
        workers = [
            ctx.Process(
                target=load_worker, args=(r.proxy.url, r.app.domains[0], clients, kind == "caddy", go, stop, out)
            )
            for _ in range(procs)
        ]
        for w in workers:
            w.start()
        go.set()
        await asyncio.sleep(1.0)  # the load is steady before the first redeploy
        began = time.monotonic()
        timings = [await redeploy(r) for _ in range(n)]
        await asyncio.sleep(1.0)
        stop.set()
        parts = [await asyncio.to_thread(out.get, True, 120) for _ in workers]
        elapsed = time.monotonic() - began + 2.0
        for w in workers:
            await asyncio.to_thread(w.join, 30)
    load = totals(parts, elapsed)
    latencies = load.pop("latencies")
    return {
        "proxy": kind,
        "upstream": upstream,
        "redeploys": n,
        "clients": procs * clients,
        **load,
        "request_latency_s": {
            "p50": round(percentile(latencies, 0.5), 4),
            "p99": round(percentile(latencies, 0.99), 4),
        },
        "push_to_live_s": stats([t["push_to_live"] for t in timings]),
        "push_to_succeeded_s": stats([t["push_to_succeeded"] for t in timings]),
        "load_average": round(os.getloadavg()[0], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--redeploys", type=int, default=20)
    parser.add_argument("--procs", type=int, default=2)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--proxy", choices=["traefik", "caddy"], default="traefik")
    parser.add_argument("--upstream", choices=["caddy", "busybox"], default="caddy")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--results", type=Path, default=Path(__file__).parent / "results", help="where the JSON goes")
    args = parser.parse_args()
    if not images.docker_available():
        sys.exit("no Docker engine answers: start dockerd")
    r = asyncio.run(redeploys(args.redeploys, args.proxy, args.upstream, args.procs, args.clients))
    out = args.results
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{time.strftime('%Y%m%dT%H%M%S')}.json").write_text(json.dumps(r, indent=2) + "\n")
    if args.json:
        print(json.dumps(r, indent=2))
    else:
        print(
            f"{r['redeploys']} redeploys through the whole pipeline ({r['proxy']}, upstream {r['upstream']}),"
            f" {r['clients']} keep-alive clients, {r['seconds']} s; machine load average {r['load_average']}"
        )
        print(f"  served {r['served']} ({r['requests_per_s']}/s), failed {r['failed']} {r['failures'] or ''}")
        print(f"  retried once after an idle keep-alive close: {r['retried_once_after_idle_close']}")
        lat = r["request_latency_s"]
        print(f"  request latency p50 {lat['p50']:.4f} s  p99 {lat['p99']:.4f} s")
        for key in ("push_to_live_s", "push_to_succeeded_s"):
            s = r[key]
            print(f"  {key:<20} p50 {s['p50']:.3f}  p90 {s['p90']:.3f}  min {s['min']:.3f}  max {s['max']:.3f}")
        print(f"  target: 0 failed requests {'met' if r['failed'] == 0 else 'MISSED'}")
    sys.exit(0 if r["failed"] == 0 else 1)


if __name__ == "__main__":
    main()
