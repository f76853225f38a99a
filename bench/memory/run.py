"""bench/memory: idle memory of the whole control plane — nats-server, the six services, Traefik —
started by the real supervisor (``zpanel up --detach --no-example``) under a temporary
ZPANEL_HOME on free 127.0.0.1 ports.

    .venv/bin/python bench/memory/run.py [--settle 10] [--proxy traefik|caddy] [--json]

Sums the RSS of every process tree the stack's ``stack.json`` names (each service's pid and its
descendants, and the supervisor itself), and beside it the PSS (shared pages split between the
processes sharing them, so the sum is what the machine really spends). Exits 1 when the RSS sum
of the control plane exceeds the target (300 MB).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.harness.nats import free_port  # noqa: E402

ZPANEL = str(Path(sys.executable).parent / "zpanel")
TARGET_MB = 300.0


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        kids = task / "children"
        if kids.exists():
            found += [int(x) for x in kids.read_text().split()]
    return found


def tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        if Path(f"/proc/{p}").exists():
            out.append(p)
            todo += children(p)
    return out


def kb(pid: int, field: str, source: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/{source}").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure(name: str, pid: int, whole_tree: bool = True) -> dict[str, Any]:
    pids = tree(pid) if whole_tree else [pid]
    return {
        "name": name,
        "pids": pids,
        "rss_mb": round(sum(kb(p, "VmRSS", "status") for p in pids) / 1024, 1),
        "pss_mb": round(sum(kb(p, "Pss", "smaps_rollup") for p in pids) / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--settle", type=float, default=10.0, help="idle seconds after `up` returns")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--proxy", choices=["traefik", "caddy"], default="traefik", help="the proxy of `local`")
    parser.add_argument("--results", type=Path, default=Path(__file__).parent / "results", help="where the JSON goes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="zp-bench-mem-") as t:
        home = Path(t) / "home"
        env = {
            **os.environ,
            "ZPANEL_HOME": str(home),
            "ZPANEL_HTTP_PORT": str(free_port()),
            "ZPANEL_NATS_PORT": str(free_port()),
            "ZPANEL_PROXY_HTTP_PORT": str(free_port()),
            "ZPANEL_PROXY_HTTPS_PORT": str(free_port()),
            "ZPANEL_PROXY_BIND": "127.0.0.1",
            "ZPANEL_CADDY_ADMIN_PORT": str(free_port()),
        }
        up = subprocess.run(
            [ZPANEL, "up", "--detach", "--no-example", "--proxy", args.proxy, "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        try:
            if up.returncode:
                raise SystemExit(f"zpanel up failed ({up.returncode}): {up.stderr.strip()}")
            doc = json.loads(up.stdout)
            time.sleep(args.settle)
            rows = [measure(s["name"], int(s["pid"])) for s in doc["services"] if s.get("pid")]
            sup_pid = json.loads((home / "stack.json").read_text()).get("supervisor_pid")
            supervisor = measure("supervisor", int(sup_pid), whole_tree=False) if sup_pid else None
            states = {s["name"]: s["state"] for s in doc["services"]}
        finally:
            subprocess.run([ZPANEL, "down"], env=env, capture_output=True, timeout=120)
    plane_rss = round(sum(r["rss_mb"] for r in rows), 1)
    plane_pss = round(sum(r["pss_mb"] for r in rows), 1)
    result = {
        "settle_s": args.settle,
        "proxy": args.proxy,
        "services": rows,
        "states": states,
        "control_plane_rss_mb": plane_rss,
        "control_plane_pss_mb": plane_pss,
        "supervisor": supervisor,
        "load_average": round(os.getloadavg()[0], 1),
    }
    out = args.results
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{time.strftime('%Y%m%dT%H%M%S')}.json").write_text(json.dumps(result, indent=2) + "\n")
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"idle control plane, {args.settle:g} s after `zpanel up --detach --no-example` returned")
        print(f"  {'process tree':<18} {'procs':>5} {'RSS MB':>8} {'PSS MB':>8}")
        for r in rows + ([supervisor] if supervisor else []):
            print(f"  {r['name']:<18} {len(r['pids']):>5} {r['rss_mb']:>8} {r['pss_mb']:>8}")
        print(
            f"  {'control plane':<18} {'':>5} {plane_rss:>8} {plane_pss:>8}   (the supervisor process alone is listed above)"
        )
        print(f"  target: RSS ≤ {TARGET_MB:g} MB {'met' if plane_rss <= TARGET_MB else 'MISSED'}")
    sys.exit(0 if plane_rss <= TARGET_MB else 1)


if __name__ == "__main__":
    main()
