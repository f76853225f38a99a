"""bench/gateway (HTTP): signed webhooks/s and p50/p99 for ONE gateway process on a real
nats-server, each verified and durably queued (202), beside a bare FastAPI endpoint measured in
the same run with the same client.

    .venv/bin/python bench/gateway/run.py [--seconds 10] [--warmup 2] [--connections 32]
                                          [--apps 200] [--bare-loop uvloop|asyncio] [--profile] [--json]

See README.md for the method. Exits 1 when a target is missed (≥ 2,000/s, ≥ 0.5× bare) or the
deployments bucket does not end with one record per 202 once admission has drained.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.gateway.load import repo_url  # noqa: E402
from tests.harness import procs  # noqa: E402
from tests.harness.nats import NatsServer, free_port  # noqa: E402

HERE = Path(__file__).resolve().parent
TOKEN = "zp_bench-gateway-admin-token"
TARGET_RATE, TARGET_RATIO = 2000, 0.5


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url} exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url}/healthz did not answer within {timeout}s")


def register(url: str, count: int) -> list[str]:
    """The ``local`` server and ``count`` applications, through the API; their webhook secrets."""
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with httpx.Client(base_url=url, headers=auth, timeout=30) as api:
        r = api.post("/api/v1/servers", json={"name": "local"})
        r.raise_for_status()
        out = []
        for i in range(count):
            secret = secrets.token_urlsafe(24)
            body = {"name": f"bench-app-{i}", "repo": repo_url(i), "branch": "master", "server": "local"}
            r = api.post("/api/v1/applications", json=body | {"webhook_secret": secret})
            r.raise_for_status()
            out.append(secret)
    return out


def load(port: int, app_secrets: list[str], args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    spec = tmp / f"spec-{port}.json"
    spec.write_text(
        json.dumps(
            {
                "port": port,
                "secrets": app_secrets,
                "seconds": args.seconds,
                "warmup": args.warmup,
                "connections": args.connections,
                "bare_loop": args.bare_loop,
            }
        )
    )
    done = subprocess.run(
        [sys.executable, str(HERE / "load.py"), str(spec)],
        capture_output=True,
        text=True,
        timeout=args.seconds + args.warmup + 120,
    )
    if done.returncode:
        raise RuntimeError(f"the load generator failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def summary(raw: dict[str, Any]) -> dict[str, Any]:
    lat = raw.pop("latencies_ms")
    ok = raw["by_status"].get("202", 0)
    pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))] if lat else float("nan")  # noqa: E731
    return raw | {"per_s": round(ok / raw["seconds"], 1), "p50_ms": pick(0.50), "p99_ms": pick(0.99)}


def wait_admitted(nats_url: str, expected: int, gateway_pid: int, stall_s: float = 60.0) -> dict[str, Any]:
    """Wait until the ``deployments`` bucket holds ``expected`` records (one per 202: the intake
    admits them after the answers) or stops growing for ``stall_s``. Returns the count when the
    load ended, the final count, the seconds the drain took and the gateway's CPU during it."""
    import asyncio

    import nats

    async def count(nc: Any) -> int:
        # the API's own answer: it counts the keys (nats-py's StreamState drops num_subjects);
        # deployment records are never deleted here
        msg = await nc.request("$JS.API.STREAM.INFO.KV_deployments", b"", timeout=10)
        return int(json.loads(msg.data)["state"].get("num_subjects", 0))

    async def drain() -> dict[str, Any]:
        nc = await nats.connect(nats_url)
        try:
            start, cpu0 = time.monotonic(), cpu_seconds(gateway_pid)
            at_end = last = await count(nc)
            progress = start
            while last < expected and time.monotonic() - progress < stall_s:
                await asyncio.sleep(0.5)
                now = await count(nc)
                if now != last:
                    last, progress = now, time.monotonic()
            seconds = (progress if last else time.monotonic()) - start
            return {
                "records_when_load_ended": at_end,
                "records": last,
                "drain_s": round(seconds, 1),
                "drain_cpu_s": round(cpu_seconds(gateway_pid) - cpu0, 2),
            }
        finally:
            await nc.close()

    return asyncio.run(drain())


def profile_gateway(pid: int, seconds: float, out: Path) -> subprocess.Popen[bytes] | None:
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        print("--profile: py-spy is not installed (.venv/bin/pip install py-spy); no profile", file=sys.stderr)
        return None
    argv = [
        spy,
        "record",
        "--pid",
        str(pid),
        "--duration",
        str(int(seconds)),
        "--format",
        "raw",
        "--gil",
        "-o",
        str(out),
    ]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def top_frames(raw: Path, n: int = 15) -> list[tuple[str, float, float]]:
    """(function, self %, total %) from py-spy's collapsed stacks: the ``n`` functions with the
    most samples of their own, then the ``n`` of Zpanel's own code with the most in total."""
    from collections import Counter

    self_c: Counter[str] = Counter()
    total_c: Counter[str] = Counter()
    samples = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        k = int(count)
        samples += k
        frames = stack.split(";")
        self_c[frames[-1]] += k
        for f in set(frames):
            total_c[f] += k
    if not samples:
        return []
    ours = [f for f, _ in total_c.most_common() if "zpanel" in f and "service.py" not in f][:n]
    top = [f for f, _ in self_c.most_common(n)] + ours
    return [(f, 100 * self_c[f] / samples, 100 * total_c[f] / samples) for f in top]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured seconds per target")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--connections", type=int, default=32, help="concurrent keep-alive connections")
    parser.add_argument("--apps", type=int, default=200, help="applications the webhooks are spread over")
    parser.add_argument("--profile", action="store_true", help="py-spy the gateway during its run")
    parser.add_argument(
        "--bare-loop",
        choices=("uvloop", "asyncio"),
        default="uvloop",
        help="the bare endpoint's event loop (the gateway's is uvloop)",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--results", type=Path, default=Path(__file__).parent / "results", help="where the JSON goes")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="zp-bench-gw-") as t:
        tmp = Path(t)
        nats = NatsServer(store=tmp / "nats" / "js").start()
        gw_port, bare_port = free_port(), free_port()
        env = {
            "ZPANEL_HOME": str(tmp / "home"),
            "ZPANEL_NATS_URL": nats.url,
            "ZPANEL_HTTP_PORT": str(gw_port),
            "ZPANEL_ADMIN_TOKEN": TOKEN,
            "ZPANEL_MAX_OPEN_PER_SERVER": "1000000",  # nothing finishes deployments here: never 429
            "ZPANEL_LOG_LEVEL": "warning",
        }
        gateway = procs.spawn(["-m", "zpanel_webhook_gateway"], env, tmp / "gateway.log")
        bare = procs.spawn([str(HERE / "bare.py"), str(bare_port), args.bare_loop], {}, tmp / "bare.log")
        try:
            wait_healthy(f"http://127.0.0.1:{gw_port}", gateway, tmp / "gateway.log")
            wait_healthy(f"http://127.0.0.1:{bare_port}", bare, tmp / "bare.log")
            app_secrets = register(f"http://127.0.0.1:{gw_port}", args.apps)
            bare_cpu0 = cpu_seconds(bare.pid)
            bare_raw = load(bare_port, app_secrets, args, tmp)
            bare_cpu = cpu_seconds(bare.pid) - bare_cpu0
            procs.terminate(bare)  # not competing for the CPU during the gateway's run
            spy = profile_gateway(gateway.pid, args.warmup + args.seconds, tmp / "gw.txt") if args.profile else None
            cpu0 = cpu_seconds(gateway.pid), cpu_seconds(nats.proc.pid)  # type: ignore[union-attr]
            load_start = time.monotonic()
            gw_raw = load(gw_port, app_secrets, args, tmp)
            load_s = time.monotonic() - load_start
            cpu1 = cpu_seconds(gateway.pid), cpu_seconds(nats.proc.pid)  # type: ignore[union-attr]
            admission = wait_admitted(nats.url, gw_raw["accepted_total"], gateway.pid)
            if spy is not None:
                _, err = spy.communicate(timeout=60)
                if spy.returncode:
                    print(f"py-spy failed: {err.decode()[-500:]}", file=sys.stderr)
        finally:
            procs.terminate(bare)
            procs.terminate(gateway)
            nats.stop()
        profile = top_frames(tmp / "gw.txt") if (tmp / "gw.txt").exists() else []
        if profile:
            args.results.mkdir(parents=True, exist_ok=True)
            shutil.copy(tmp / "gw.txt", args.results / "profile-gateway.txt")  # collapsed stacks, for a closer look

    bare_s, gw_s = summary(bare_raw), summary(gw_raw)
    accepted = max(1, gw_s["accepted_total"])
    gw_s["cpu_ms_per_webhook"] = round(1000 * (cpu1[0] - cpu0[0]) / accepted, 2)
    gw_s["nats_cpu_ms_per_webhook"] = round(1000 * (cpu1[1] - cpu0[1]) / accepted, 2)
    bare_s["cpu_ms_per_request"] = round(1000 * bare_cpu / max(1, bare_s["accepted_total"]), 2)
    ratio = gw_s["per_s"] / bare_s["per_s"] if bare_s["per_s"] else 0.0
    records = admission["records"]
    drained = admission["records"] - admission["records_when_load_ended"]
    admission["per_s_during_load"] = round(admission["records_when_load_ended"] / load_s, 1)
    admission["per_s_after_load"] = round(drained / admission["drain_s"], 1) if admission["drain_s"] else None
    admission["cpu_ms_per_record_after_load"] = round(1000 * admission["drain_cpu_s"] / drained, 2) if drained else None
    result = {
        "connections": args.connections,
        "bare_loop": args.bare_loop,
        "apps": args.apps,
        "seconds": args.seconds,
        "bare": bare_s,
        "gateway": gw_s,
        "deployment_records": records,
        "admission": admission,
        "ratio": round(ratio, 3),
        "targets": {"per_s": TARGET_RATE, "ratio": TARGET_RATIO},
        "profile_top": [{"frame": f, "self_pct": round(s, 1), "total_pct": round(tt, 1)} for f, s, tt in profile],
    }
    out = args.results
    out.mkdir(parents=True, exist_ok=True)
    (out / f"http-{time.strftime('%Y%m%dT%H%M%S')}.json").write_text(json.dumps(result, indent=2) + "\n")
    complete = records == gw_s["accepted_total"]
    met = gw_s["per_s"] >= TARGET_RATE and ratio >= TARGET_RATIO and complete
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"{args.connections} connections, {args.apps} apps, {args.seconds:g} s measured after {args.warmup:g} s warm-up"
        )
        for name, s in ((f"bare endpoint ({args.bare_loop})", bare_s), ("gateway (verified + queued)", gw_s)):
            print(
                f"  {name:<28} {s['per_s']:8.1f}/s  p50 {s['p50_ms']:7.2f} ms  p99 {s['p99_ms']:7.2f} ms"
                f"  answers {s['by_status']} errors {s['errors'] or 0}"
            )
        print(
            f"  deployment records: {records} for {gw_s['accepted_total']} 202 answers (warm-up included)"
            f" {'- one each' if complete else '- MISMATCH'}"
        )
        print(
            f"  admission (intake, after the 202s): {admission['records_when_load_ended']} records when the load"
            f" ended ({admission['per_s_during_load']}/s beside the HTTP load), the rest in {admission['drain_s']} s"
            f" ({admission['per_s_after_load']}/s alone, {admission['cpu_ms_per_record_after_load']} ms of gateway"
            " CPU each)"
        )
        print(
            f"  CPU per accepted webhook (warm-up included): gateway {gw_s['cpu_ms_per_webhook']} ms,"
            f" nats-server {gw_s['nats_cpu_ms_per_webhook']} ms (bare endpoint: {bare_s['cpu_ms_per_request']} ms);"
            f" machine load average {os.getloadavg()[0]:.1f}"
        )
        print(f"  ratio gateway/bare: {ratio:.3f}")
        print(
            f"  targets: ≥ {TARGET_RATE}/s {'met' if gw_s['per_s'] >= TARGET_RATE else 'MISSED'},"
            f" ≥ {TARGET_RATIO}× bare {'met' if ratio >= TARGET_RATIO else 'MISSED'}"
        )
        if profile:
            print("  gateway profile (py-spy --gil; self % / total % of samples; top own-time, then Zpanel code):")
            for frame, self_pct, total_pct in profile:
                print(f"    {self_pct:5.1f} {total_pct:5.1f}  {frame}")
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
