"""``python -m zpanel_webhook_gateway`` as the supervisor starts it: serves HTTP on
ZPANEL_HTTP_PORT, makes the admin token once (file 0600, never in the log), drains on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.harness.nats import NatsServer, env_for, free_port


def start(url: str, home: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = env_for(url, home) | {"ZPANEL_HTTP_PORT": str(port), "ZPANEL_LOG_FORMAT": "json"}
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "zpanel_webhook_gateway"], env=env, stdout=out, stderr=out)


def wait_healthy(port: int, proc: subprocess.Popen[bytes]) -> dict[str, object]:
    deadline = time.monotonic() + 60  # a loaded CI machine starts Python slowly
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the gateway exited during start-up"
        try:
            r = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return dict(r.json())
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError("the gateway never answered /healthz")


def stop(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise


def test_serves_makes_the_admin_token_once_and_drains(own_nats: NatsServer, tmp_path: Path) -> None:
    home, port, log = tmp_path / "home", free_port(), tmp_path / "gateway.log"
    proc = start(own_nats.url, home, port, log)
    try:
        assert wait_healthy(port, proc) == {"status": "ok", "nats": True}
        token_file = home / "admin-token"
        token = token_file.read_text().strip()
        assert oct(token_file.stat().st_mode & 0o777) == "0o600"
        r = httpx.get(f"http://127.0.0.1:{port}/api/v1/servers", headers={"Authorization": f"Bearer {token}"})
        assert (r.status_code, r.json()) == (200, [])
    finally:
        code = stop(proc)
    assert code == 0
    assert token not in log.read_text()

    token_file.unlink()
    proc = start(own_nats.url, home, port, log)
    try:
        wait_healthy(port, proc)
        assert not token_file.exists()  # made once per stack: a restart makes none
        r = httpx.get(f"http://127.0.0.1:{port}/api/v1/servers", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200
    finally:
        assert stop(proc) == 0
