"""The example app: its repository (Dockerfile pointed at a base image this machine has, a hook
that deploys pushes) and, built for real, the page and the CGI endpoint it serves."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import httpx
import pytest

from tests.cli.dummies import until
from tests.harness import containers
from zpanel.cli import example


def git(*args: str) -> str:
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True).stdout


def test_make_repo_commits_the_example_with_the_chosen_base_image(tmp_path: Path) -> None:
    bare = example.make_repo(tmp_path, "registry.local/busybox:1")
    assert bare == tmp_path / "repos" / "hello.git"
    files = git("-C", str(bare), "ls-tree", "-r", "--name-only", "main").split()
    assert files == ["Dockerfile", "README.md", "www/cgi-bin/info", "www/index.html"]
    assert git("-C", str(bare), "ls-tree", "main", "www/cgi-bin/info").startswith("100755")
    dockerfile = git("-C", str(bare), "show", "main:Dockerfile")
    assert "ARG BASE_IMAGE=registry.local/busybox:1\nFROM ${BASE_IMAGE}\n" in dockerfile
    hook = bare / "hooks" / "post-receive"
    assert hook.stat().st_mode & 0o111
    assert f"ZPANEL_HOME={tmp_path} " in hook.read_text() and "deploy hello --commit" in hook.read_text()
    # The clone to edit pushes to it; a second `up` keeps both.
    assert git("-C", str(tmp_path / "repos" / "hello"), "remote", "get-url", "origin").strip() == str(bare)
    assert example.make_repo(tmp_path, "other:1") == bare
    assert "registry.local/busybox:1" in git("-C", str(bare), "show", "main:Dockerfile")


def test_the_base_image_comes_from_the_environment_first() -> None:
    assert example.static_base_image(print, {"ZPANEL_BASE_IMAGE_STATIC": "mine:1"}) == "mine:1"


def test_app_url_omits_port_80() -> None:
    assert (example.app_url(80), example.app_url(8081)) == ("http://hello.localhost/", "http://hello.localhost:8081/")


@pytest.mark.docker
def test_the_example_builds_offline_and_serves(tmp_path: Path, docker_engine: None) -> None:
    base = example.static_base_image(print, {})
    bare = example.make_repo(tmp_path, base)
    tag = f"zpanel-test/hello:{uuid.uuid4().hex[:8]}"
    name = f"zpanel-test-hello-{uuid.uuid4().hex[:8]}"
    subprocess.run(
        ["docker", "build", "-q", "-t", tag, str(tmp_path / "repos" / "hello")], check=True, capture_output=True
    )
    try:
        with containers.Pool() as pool:
            port = pool.start(tag, name=name, labels={"zpanel.test": "cli"}, port=8080).port
            page = until("the page", lambda: _get(f"http://127.0.0.1:{port}/"))
            assert page.status_code == 200 and "<h1>Hello from Zpanel</h1>" in page.text
            info = httpx.get(f"http://127.0.0.1:{port}/cgi-bin/info")
            assert (info.status_code, info.headers["content-type"]) == (200, "application/json")
            assert json.loads(info.text)["app"] == "hello"
    finally:
        subprocess.run(["docker", "rmi", "-f", tag], capture_output=True)
    assert bare.exists()


def _get(url: str) -> httpx.Response | None:
    try:
        return httpx.get(url, timeout=1)
    except httpx.HTTPError:
        return None
