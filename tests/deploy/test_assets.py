"""Production assets are valid: the compose file (checked by Debian's docker-compose, since no image
can be pulled here), the NATS configurations (checked by nats-server -t), the systemd units."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.harness.nats import nats_server_binary
from zpanel import permissions

ROOT = Path(__file__).resolve().parents[2]
PASSWORDS = {"ZPANEL_NATS_PASSWORD_" + s.upper().replace("-", "_"): "pw" for s in permissions.SERVICES}
SERVICES = {"webhook-gateway", "builder", "deployer", "health", "proxy-sync", "notifier"}


def compose(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("docker-compose")
    if exe is None:
        pytest.fail("docker-compose is missing: apt-get install docker-compose (.ci/run does)")
    return subprocess.run(
        [exe, "-f", str(ROOT / "docker-compose.yml"), *args],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"], **env},
        cwd=ROOT,
    )


def test_compose_file_is_valid_and_runs_every_service() -> None:
    env = {**PASSWORDS, "ZPANEL_SECRET_KEY": "k"}
    out = compose("config", env=env)
    assert out.returncode == 0, out.stderr
    doc = yaml.safe_load(out.stdout)
    assert SERVICES | {"nats", "traefik", "jaeger"} == set(doc["services"])
    for name in SERVICES:
        svc = doc["services"][name]
        assert svc["command"] == ["python", "-m", "zpanel_" + name.replace("-", "_")]
        assert svc["environment"]["ZPANEL_NATS_USER"] == permissions.user_name(name)
        assert "container_name" not in svc  # would forbid --scale
    assert doc["services"]["jaeger"]["profiles"] == ["tracing"]


def test_compose_refuses_to_start_without_the_secret_key() -> None:
    out = compose("config", "-q", env=PASSWORDS)
    assert out.returncode != 0
    assert "set ZPANEL_SECRET_KEY" in out.stderr


@pytest.mark.parametrize("conf", ["single.conf", "cluster/n1.conf", "cluster/n2.conf", "cluster/n3.conf"])
def test_nats_configs_are_valid(conf: str) -> None:
    path = ROOT / "deploy" / "nats" / conf
    out = subprocess.run(
        [nats_server_binary(), "-t", "-c", str(path)], capture_output=True, text=True, env={**os.environ, **PASSWORDS}
    )
    assert out.returncode == 0, out.stderr
    assert "is valid" in out.stderr + out.stdout


def test_systemd_unit_runs_each_service_module() -> None:
    unit = (ROOT / "deploy" / "systemd" / "zpanel@.service").read_text()
    assert "ExecStart=/opt/zpanel/.venv/bin/python -m zpanel_%i" in unit
    for name in SERVICES:
        module = "zpanel_" + name.replace("-", "_")
        assert (ROOT / "services" / name / module).is_dir()
