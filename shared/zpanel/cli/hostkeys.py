"""Pinning a server's SSH host key: take the user's known_hosts lines for the host, or scan the
key and show its fingerprint for the user to accept (never trusted silently)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from zpanel.cli.errors import CliError, UsageProblem


def host_pattern(host: str, port: int) -> str:
    return host if port == 22 else f"[{host}]:{port}"


def lines_for(text: str, host: str, port: int) -> str:
    """The known_hosts lines naming this host (plain or hashed entries kept as given)."""
    wanted = host_pattern(host, port)
    kept = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        names = line.split()[0]
        if names.startswith("@"):  # @cert-authority / @revoked markers: keep, they name hosts in field 2
            names = line.split()[1]
        if names.startswith("|1|") or wanted in names.split(","):
            kept.append(line)
    return "\n".join(kept) + ("\n" if kept else "")


def read_known_hosts(path: Path, host: str, port: int) -> str:
    try:
        text = path.read_text()
    except OSError as exc:
        raise UsageProblem(f"cannot read --known-hosts {path}: {exc.strerror or exc}") from None
    lines = lines_for(text, host, port)
    if not lines:
        raise UsageProblem(
            f"{path} has no host key for {host_pattern(host, port)}; add one (ssh-keyscan) or drop --known-hosts"
        )
    return lines


def scan(host: str, port: int, timeout: int = 5) -> str:
    try:
        r = subprocess.run(
            ["ssh-keyscan", "-T", str(timeout), "-p", str(port), host],
            capture_output=True,
            text=True,
            timeout=timeout + 5,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        raise CliError(f"cannot scan the host key of {host}:{port} ({exc}); pass --known-hosts FILE") from exc
    lines = "".join(line + "\n" for line in r.stdout.splitlines() if line and not line.startswith("#"))
    if not lines:
        raise CliError(f"no SSH host key answered at {host}:{port}; check --host/--port, or pass --known-hosts FILE")
    return lines


def fingerprints(known_hosts: str) -> list[str]:
    r = subprocess.run(["ssh-keygen", "-l", "-f", "-"], input=known_hosts, capture_output=True, text=True)
    return [line for line in r.stdout.splitlines() if line.strip()]
