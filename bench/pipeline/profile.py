"""bench/pipeline/profile.py: where a cached redeploy's build and container start go, command by
command. Runs the rig of run.py and records every process the stages spawn (git, docker, sh)
and every Engine API command of the deployer, with its start and end, relative to the stage
event that opens it.

    .venv/bin/python bench/pipeline/profile.py [--runs 3]

Prints, per run, each command under ``build.started`` / ``deploy.started`` with its offset and
duration; the spawns are found by wrapping asyncio's subprocess creation, so nothing in the
services changes for it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.pipeline.rig import EVENT_SUBJECTS, _ts, redeploy, rig

SPANS: list[tuple[float, float, str]] = []


def _trace_spawns() -> None:
    real = asyncio.create_subprocess_exec

    async def traced(*argv: Any, **kw: Any) -> asyncio.subprocess.Process:
        started = time.time()
        proc = await real(*argv, **kw)
        wait = proc.wait

        async def timed_wait() -> int:
            rc = await wait()
            SPANS.append((started, time.time(), " ".join(str(a) for a in argv)[:110]))
            return rc

        proc.wait = timed_wait  # type: ignore[method-assign]
        return proc

    asyncio.create_subprocess_exec = traced  # type: ignore[assignment]
    from zpanel.remote.engine import Engine

    perform = Engine._perform

    async def traced_api(self: Engine, op: Any, argv: list[str]) -> Any:
        started = time.time()
        try:
            return await perform(self, op, argv)
        finally:
            SPANS.append((started, time.time(), "[engine API] " + " ".join(argv)[:97]))

    Engine._perform = traced_api  # type: ignore[method-assign]


def _show(events: dict[str, dict[str, Any]], spans: list[tuple[float, float, str]]) -> None:
    for begin, end in (("build.started", "build.done"), ("deploy.started", "deploy.done")):
        t0, t1 = _ts(events[begin]), _ts(events[end])
        print(f"  {begin} → {end}: {t1 - t0:.3f} s")
        for s, e, what in sorted(spans):
            if t0 - 0.01 <= s <= t1:
                print(f"    +{s - t0:6.3f} {e - s:6.3f}  {what}")


async def main(runs: int) -> None:
    _trace_spawns()
    async with rig("traefik") as r:
        seen: dict[str, dict[str, Any]] = {}

        async def on(msg: Any) -> None:
            doc = json.loads(msg.data)
            if dep := doc.get("deployment_id"):
                seen.setdefault(dep, {})[doc["type"]] = doc

        for subject in EVENT_SUBJECTS:
            await r.zp.bus.nc.subscribe(subject, cb=on)
        for n in range(runs):
            SPANS.clear()
            out = await redeploy(r)
            dep = next(reversed(seen))
            print(f"run {n + 1}: push→live {out['push_to_live']:.3f} s")
            _show(seen[dep], list(SPANS))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    asyncio.run(main(parser.parse_args().runs))
