"""The example ``zpanel up`` deploys: a base image this machine has, a local Git repository made
from ``examples/hello`` (with a hook that deploys every push to main), the ``local`` server, the
``hello`` application, and its first deployment."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from zpanel.cli.client import Api
from zpanel.cli.errors import ApiError, CliError
from zpanel.cli.follow import failure_reason, follow

APP = "hello"
SOURCE = Path(__file__).resolve().parents[3] / "examples" / APP
LOCAL_IMAGE = "zpanel/busybox:local"
CANDIDATES = ("busybox:stable", "busybox:1.37", "busybox:latest", LOCAL_IMAGE)
BUSYBOX = Path("/bin/busybox")


def _docker(*args: str, **kw: Any) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["docker", *args], capture_output=True, **kw)


def static_base_image(say: Callable[[str], None], environ: Mapping[str, str] | None = None) -> str:
    """ZPANEL_BASE_IMAGE_STATIC, else a busybox image already here, else one made from Debian's
    static busybox (no registry needed), else busybox:stable for the engine to pull."""
    environ = os.environ if environ is None else environ
    if environ.get("ZPANEL_BASE_IMAGE_STATIC"):
        return environ["ZPANEL_BASE_IMAGE_STATIC"]
    for name in CANDIDATES:
        if _docker("image", "inspect", name).returncode == 0:
            return name
    if not BUSYBOX.exists():
        return CANDIDATES[0]
    say(f"making the base image {LOCAL_IMAGE} from {BUSYBOX} (no registry needed)")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for d in ("bin", "tmp", "etc", "www"):
            (root / d).mkdir()
        shutil.copy2(BUSYBOX, root / "bin" / "busybox")
        applets = subprocess.run([str(BUSYBOX), "--list"], capture_output=True, text=True, check=True).stdout.split()
        for applet in applets:
            if applet != "busybox":
                (root / "bin" / applet).symlink_to("busybox")
        (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\n")
        (root / "etc" / "group").write_text("root:x:0:\n")
        tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
        imported = _docker("import", "-c", 'CMD ["sh"]', "-", LOCAL_IMAGE, stdin=tar.stdout)
        tar.wait()
    if imported.returncode != 0:
        raise CliError(f"docker import of {LOCAL_IMAGE} failed: {imported.stderr.decode().strip()}")
    return LOCAL_IMAGE


def _git(cwd: Path, *args: str) -> None:
    r = subprocess.run(["git", "-C", str(cwd), *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise CliError(f"git {' '.join(args)} failed in {cwd}: {r.stderr.strip()}")


HOOK = """#!/bin/sh
# Installed by `zpanel up`: a push to main deploys the pushed commit.
while read old new ref; do
  if [ "$ref" = "refs/heads/main" ] && [ "$new" != "0000000000000000000000000000000000000000" ]; then
    ZPANEL_HOME={home} {zpanel} deploy {app} --commit "$new" || echo "zpanel: the deployment did not start" >&2
  fi
done
"""


def make_repo(home: Path, base_image: str, source: Path = SOURCE) -> Path:
    """``$ZPANEL_HOME/repos/hello.git`` (made once) and a clone to edit at ``repos/hello``."""
    bare = home / "repos" / f"{APP}.git"
    if bare.exists():
        return bare
    if not source.is_dir():
        raise CliError(f"the example app is missing ({source}); run `zpanel up --no-example`")
    work = home / "repos" / APP
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(source, work)
    dockerfile = work / "Dockerfile"
    dockerfile.write_text(re.sub(r"(?m)^ARG BASE_IMAGE=.*$", f"ARG BASE_IMAGE={base_image}", dockerfile.read_text()))
    _git(work, "init", "-q", "-b", "main")
    _git(work, "add", "-A")
    _git(
        work,
        "-c",
        "user.name=Zpanel",
        "-c",
        "user.email=zpanel@localhost",
        "commit",
        "-q",
        "-m",
        "hello: the example app",
    )
    _git(home / "repos", "init", "-q", "--bare", "-b", "main", str(bare))
    _git(work, "remote", "add", "origin", str(bare))
    _git(work, "push", "-q", "-u", "origin", "main")
    zpanel = Path(sys.executable).parent / "zpanel"
    hook = bare / "hooks" / "post-receive"
    hook.write_text(HOOK.format(home=shlex.quote(str(home)), zpanel=shlex.quote(str(zpanel)), app=APP))
    hook.chmod(0o755)
    return bare


def app_url(proxy_http_port: int | None) -> str:
    port = "" if proxy_http_port in (None, 80) else f":{proxy_http_port}"
    return f"http://{APP}.localhost{port}/"


def _create(api: Api, path: str, body: dict[str, Any]) -> None:
    try:
        api.post(path, body)
    except ApiError as exc:
        if exc.status != 409:  # already registered by an earlier `zpanel up`
            raise


def install(api: Api, repo: Path, proxy: str, *, quiet: bool, timeout: float = 300) -> str:
    """Register ``local`` and ``hello``, deploy unless its current deployment is live; the URL."""
    _create(api, "/api/v1/servers", {"name": "local", "kind": "local", "host": "127.0.0.1", "proxy": proxy})
    _create(
        api,
        "/api/v1/applications",
        {
            "name": APP,
            "repo": str(repo),
            "branch": "main",
            "server": "local",
            "domains": [f"{APP}.localhost"],
            "port": 8080,
            "build": "dockerfile",
            "health_path": "/",
        },
    )
    current = api.get(f"/api/v1/applications/{APP}").get("current_deployment")
    if isinstance(current, dict) and current.get("status") == "succeeded":
        return str(current.get("url") or "")
    started = api.post(f"/api/v1/applications/{APP}/deploy", {})
    final = follow(api, str(started["deployment_id"]), quiet=quiet, timeout=timeout)
    if final.get("status") != "succeeded":
        raise CliError(f"the example app did not deploy: {failure_reason(final)}")
    return str(final.get("url") or "")
