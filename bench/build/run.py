"""Cold build vs rebuild after a source-only change, through the builder's own executors.

The app is dependency-heavy but needs no network: its "install" step, keyed on a lockfile, makes
and compresses ~PACKAGES x 4 MB of package files (CPU and disk bound, like a real install). A
source-only commit must reuse that layer. Prints both times and the ratio (target: <= 0.25).

    .venv/bin/python bench/build/run.py [--packages 40]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.harness.images import busybox_image  # noqa: E402
from zpanel_builder.build import BuildSpec, image_ref  # noqa: E402
from zpanel_builder.buildkit import find_client  # noqa: E402
from zpanel_builder.checkout import SourceCache  # noqa: E402
from zpanel_builder.executor import DockerBuilder  # noqa: E402

VERBOSE = "-v" in sys.argv
DOCKERFILE = """FROM {base}
WORKDIR /app
COPY deps.lock ./
RUN --mount=type=cache,target=/var/cache/pkgs mkdir -p /deps && for p in $(cat deps.lock); do \\
      dd if=/dev/urandom bs=1M count=4 2>/dev/null | gzip -1 > /deps/$p.tgz; done && du -sh /deps
COPY . .
RUN wc -c src/* > /app/manifest
CMD ["sh", "-c", "exec httpd -f -p $PORT -h /app"]
"""


def git(cwd: Path, *args: str) -> str:
    env = {
        "GIT_AUTHOR_NAME": "b",
        "GIT_AUTHOR_EMAIL": "b@x",
        "GIT_COMMITTER_NAME": "b",
        "GIT_COMMITTER_EMAIL": "b@x",
        "HOME": str(cwd),
        "PATH": "/usr/bin:/bin",
    }
    return subprocess.run(
        ["git", "-c", "init.defaultBranch=main", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


def commit(repo: Path, files: dict[str, str], message: str) -> str:
    for rel, text in files.items():
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text(text)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


async def timed_build(cache: SourceCache, builder: DockerBuilder, repo: Path, sha: str, work: Path, name: str) -> float:
    started = time.monotonic()
    out = await cache.checkout(str(repo), sha, work)
    spec = BuildSpec(
        image=image_ref(name, out.commit),
        context=out.path,
        dockerfile=out.path / "Dockerfile",
        dockerfile_text=(out.path / "Dockerfile").read_text(),
        app_id="bench",
        commit=out.commit,
        deployment_id=uuid.uuid4().hex,
    )
    await builder.build(spec, on_line=(lambda line: print("   ", line)) if VERBOSE else None)
    return time.monotonic() - started


async def main(packages: int) -> int:
    base = busybox_image()
    client, notes = await find_client()
    builder = DockerBuilder(client)
    name = f"zpanel-bench-build-{uuid.uuid4().hex[:8]}"
    salt = uuid.uuid4().hex[:8]  # a fresh lockfile each run: the cold build really is cold
    with tempfile.TemporaryDirectory(prefix="zpanel-bench-") as tmp:
        t = Path(tmp)
        repo = t / "repo"
        repo.mkdir()
        git(repo, "init", "-q")
        first = commit(
            repo,
            {
                "Dockerfile": DOCKERFILE.format(base=base),
                "deps.lock": "\n".join(f"pkg{i}-{salt}" for i in range(packages)) + "\n",
                "src/app.txt": "v1\n",
            },
            "app",
        )
        cache = SourceCache(t / "cache")
        try:
            cold = await timed_build(cache, builder, repo, first, t / "w1", name)
            second = commit(repo, {"src/app.txt": "v2: a source-only change\n"}, "change source")
            rebuild = await timed_build(cache, builder, repo, second, t / "w2", name)
        finally:
            for sha in (first, locals().get("second")):
                if sha:
                    await builder.remove_image(image_ref(name, sha))
    ratio = rebuild / cold
    result = {
        "packages": packages,
        "cold_s": round(cold, 2),
        "rebuild_s": round(rebuild, 2),
        "ratio": round(ratio, 3),
        "target_ratio": 0.25,
        "docker": client.describe(),
    }
    print(f"docker client: {client.describe()}")
    print(f"cold build (checkout + build, {packages} packages): {cold:.2f} s")
    print(f"rebuild after a source-only change:               {rebuild:.2f} s")
    print(f"ratio: {ratio:.3f} (target <= 0.25) -> {'OK' if ratio <= 0.25 else 'MISSED'}")
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / f"{time.strftime('%Y%m%dT%H%M%S')}.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0 if ratio <= 0.25 else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--packages", type=int, default=40)
    parser.add_argument("-v", action="store_true", help="print the build output")
    sys.exit(asyncio.run(main(parser.parse_args().packages)))
