"""The whole pipeline for bench/pipeline and bench/redeploys: the six stages of
tests/e2e/pipeline.py in one process on a real nats-server, with the real Docker engine and a
real Traefik (or Caddy) on free 127.0.0.1 ports; an application whose image is cached; and one
timed redeploy (``redeploy``) that returns where its time went."""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.builder.helpers import make_repo  # noqa: E402
from tests.e2e.pipeline import Platform, app_named, platform, remove_app_containers  # noqa: E402
from tests.harness import images, proxies  # noqa: E402
from tests.harness.nats import NatsServer  # noqa: E402
from zpanel.models import Application, Status  # noqa: E402
from zpanel_proxy_sync.routes import DEPLOYMENT_HEADER  # noqa: E402

EVENT_SUBJECTS = ("build.>", "deploy.>", "health.>", "proxy.>", "deployment.>")


def busybox_app(revision: int) -> dict[str, str]:
    """A tiny app: busybox httpd serving one page. Only README changes between revisions, and the
    Dockerfile copies ``www`` alone, so every build after the first is fully cached. httpd runs
    under a shell that exits on SIGTERM: as PID 1 httpd itself ignores it, and every retirement
    of the old version would wait out docker stop's 10 s grace period."""
    return {
        "Dockerfile": "FROM zpanel-test/busybox:1\nCOPY www /www\n"
        + 'CMD ["sh", "-c", "trap \'exit 0\' TERM; httpd -f -p 8080 -h /www & wait"]\n',
        "www/index.html": "hello from the bench\n",
        "README.md": f"revision {revision}\n",
    }


def caddy_app(revision: int, image: str) -> dict[str, str]:
    """The same with ``caddy respond`` as the server (keep-alive, a full listen queue): busybox
    httpd's 9-deep listen queue overflows under a 16-client burst (see bench/switch)."""
    return {
        "Dockerfile": f'FROM {image}\nCMD ["caddy", "respond", "--listen", ":8080", "--body", "hello from the bench"]\n',
        "README.md": f"revision {revision}\n",
    }


@dataclass
class Rig:
    zp: Platform
    proxy: Any
    repo: Path
    app: Application
    files: Any  # revision -> files
    revision: int = 0
    events: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))] if s else float("nan")


def stats(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(statistics.median(values), 3),
        "p90": round(percentile(values, 0.9), 3),
        "min": round(min(values), 3),
        "max": round(max(values), 3),
    }


def quiet() -> None:
    """The stages log at info to the console; a benchmark prints only its figures."""
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


@contextlib.asynccontextmanager
async def rig(kind: str = "traefik", upstream: str = "busybox") -> AsyncIterator[Rig]:
    """nats-server + proxy + the in-process pipeline + one app, deployed once (the cold build)."""
    quiet()
    images.busybox_image()
    if upstream == "caddy":
        from bench.switch.run import caddy_upstream_image

        base = caddy_upstream_image()
        files: Any = lambda r: caddy_app(r, base)  # noqa: E731
    else:
        files = busybox_app
    with tempfile.TemporaryDirectory(prefix="zp-bench-pipe-") as t:
        tmp = Path(t)
        nats = NatsServer(store=tmp / "nats" / "js").start()
        starter = proxies.traefik if kind == "traefik" else proxies.caddy
        app: Application | None = None
        try:
            with starter(tmp / kind, tls=False) as proxy:
                async with platform(nats.url, tmp / "home", proxy) as zp:
                    repo = tmp / "repo"
                    make_repo(repo, files(0))
                    app = app_named("bench", repo)
                    await zp.state.create_app(app)
                    r = Rig(zp, proxy, repo, app, files)
                    await _listen(r)
                    first = await zp.deploy(app)
                    if first.status is not Status.SUCCEEDED:
                        raise RuntimeError(f"the first deployment {first.status.value}: {first.error}")
                    yield r
        finally:
            if app is not None:
                remove_app_containers(app.id)
            nats.stop()


async def _listen(r: Rig) -> None:
    async def on(msg: Any) -> None:
        doc = json.loads(msg.data)
        if dep := doc.get("deployment_id"):
            r.events.setdefault(dep, {})[doc["type"]] = doc

    for subject in EVENT_SUBJECTS:
        await r.zp.bus.nc.subscribe(subject, cb=on)


def _watch_live(url: str, host: str, dep_id: str, stop: threading.Event, out: list[float]) -> None:
    """When the proxy first answers with the new deployment (polled every 5 ms, from a thread)."""
    with httpx.Client(timeout=2) as web:
        while not stop.is_set():
            try:
                if web.get(url, headers={"Host": host}).headers.get(DEPLOYMENT_HEADER) == dep_id:
                    out.append(time.time())
                    return
            except httpx.HTTPError:
                pass
            stop.wait(0.005)


def _ts(doc: dict[str, Any]) -> float:
    from datetime import datetime

    return datetime.fromisoformat(doc["timestamp"]).timestamp()


async def redeploy(r: Rig) -> dict[str, float]:
    """Push a commit (README only) and trigger it as a webhook would; where the time went, in s."""
    r.revision += 1
    commit = make_repo(r.repo, r.files(r.revision), f"revision {r.revision}")
    live: list[float] = []
    stop = threading.Event()
    t_push = time.time()
    dep = await r.zp.conductor.request(r.app, "push", commit=commit)
    watcher = threading.Thread(target=_watch_live, args=(r.proxy.url, r.app.domains[0], dep.id, stop, live))
    watcher.start()
    try:
        done = await r.zp.wait(dep.id, timeout=120)
        for _ in range(200):  # the route verified by proxy-sync: the watcher sees it within ms
            if live:
                break
            await asyncio.sleep(0.01)
    finally:
        stop.set()
        await asyncio.to_thread(watcher.join, 5)
    if done.status is not Status.SUCCEEDED or not live:
        raise RuntimeError(f"deployment {dep.id} {done.status.value}: {done.error}")
    await asyncio.sleep(0.05)  # the last events reach the core subscription
    ev = r.events.pop(dep.id, {})
    stages = {
        s.name: (s.finished_at - s.started_at).total_seconds() for s in done.stages if s.started_at and s.finished_at
    }
    build = _ts(ev["build.done"]) - _ts(ev["build.started"])
    start = _ts(ev["deploy.done"]) - _ts(ev["deploy.started"])
    probe = float(ev["health.passed"]["elapsed_s"])
    total = live[0] - t_push
    gaps = {  # the overhead, piece by piece: these five add up to it
        "ovh_queue": _ts(ev["build.started"]) - t_push,
        "ovh_build_to_deploy": _ts(ev["deploy.started"]) - _ts(ev["build.done"]),
        "ovh_deploy_to_probe": _ts(ev["health.passed"]) - _ts(ev["deploy.done"]) - probe,
        "ovh_route": _ts(ev["proxy.updated"]) - _ts(ev["health.passed"]),
        "ovh_routed_to_seen": live[0] - _ts(ev["proxy.updated"]),
    }
    return {
        "push_to_live": total,
        "push_to_succeeded": done.finished_at.timestamp() - t_push if done.finished_at else float("nan"),
        "build": build,
        "container_start": start,
        "first_good_probe": probe,
        "overhead": total - (build + start + probe),
        **gaps,
        **{f"stage_{k}": v for k, v in stages.items()},
        "cached_build": float(bool(ev["build.done"].get("cached"))),
    }
