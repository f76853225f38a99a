"""CPU cost of the gateway's pure webhook decision (verify + parse + match), per provider.

The issue's target is 2,000 verified-and-queued webhooks/s for one process, i.e. 500 µs per
request for everything; this measures the share the pure part takes, with real payloads and a
realistic number of registered applications. Run: ``.venv/bin/python bench/gateway/pure.py``.
The HTTP + NATS benchmark comes with the API (it needs the bus).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script: the repo's tests/ too

from tests.gateway.helpers import (
    SECRET,
    app,
    bitbucket_headers,
    body,
    gitea_headers,
    github_headers,
    gitlab_headers,
)
from zpanel.models import Application
from zpanel_webhook_gateway.providers import PROVIDERS
from zpanel_webhook_gateway.webhooks import receive

CASES = {
    "github": (
        "push.json",
        "git@github.com:Codertocat/Hello-World.git",
        "master",
        lambda raw: github_headers(raw, "push"),
    ),
    "gitlab": ("push.json", "http://example.com/mike/diaspora.git", "master", lambda raw: gitlab_headers()),
    "bitbucket": (
        "go-scm.push.json",
        "https://bitbucket.org/brydzewski/foo",
        "master",
        lambda raw: bitbucket_headers(raw, "repo:push"),
    ),
    "gitea": (
        "push.json",
        "http://localhost:3000/gitea/webhooks.git",
        "develop",
        lambda raw: gitea_headers(raw, "push"),
    ),
}


def measure(provider: str, apps_count: int, rounds: int) -> dict[str, float]:
    fixture, repo, branch, make_headers = CASES[provider]
    raw = body(provider, fixture)
    headers = make_headers(raw)
    apps: list[Application] = [app(f"other{i}", f"https://example.org/team/app{i}.git") for i in range(apps_count - 1)]
    apps.append(app("web", repo, branch=branch))
    impl = PROVIDERS[provider]
    samples = []
    cpu_start = time.process_time_ns()
    for _ in range(rounds):
        start = time.perf_counter_ns()
        outcome = receive(impl, headers, raw, apps, lambda a: a.webhook_secret)
        samples.append(time.perf_counter_ns() - start)
        assert outcome.status == 202, outcome.reason
    cpu_us = (time.process_time_ns() - cpu_start) / rounds / 1000
    samples.sort()
    return {
        "body_bytes": len(raw),
        "p50_us": samples[len(samples) // 2] / 1000,
        "p99_us": samples[int(len(samples) * 0.99)] / 1000,
        "mean_us": statistics.fmean(samples) / 1000,
        "cpu_us": cpu_us,
        "per_s_one_core": 1e6 / cpu_us,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--apps", type=int, default=200, help="registered applications to match against")
    parser.add_argument("--rounds", type=int, default=5000)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "pure.json")
    args = parser.parse_args()
    results = {p: measure(p, args.apps, args.rounds) for p in CASES}
    for provider, r in results.items():
        print(
            f"{provider:10s} {r['body_bytes']:6.0f} B  CPU {r['cpu_us']:6.1f} µs  wall p50 {r['p50_us']:7.1f} µs"
            f"  p99 {r['p99_us']:7.1f} µs"
            f"  ≈ {r['per_s_one_core']:6.0f}/s of CPU ({args.apps} apps)"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps({"apps": args.apps, "rounds": args.rounds, "secret_len": len(SECRET), "results": results}, indent=2)
    )


if __name__ == "__main__":
    main()
