"""Credentials for private repositories, handed to git through files and environment variables
only: a deploy key goes to a 0600 file named in GIT_SSH_COMMAND, a token to GIT_ASKPASS, which
reads it from the environment. Neither ever appears in an argv (visible in `ps`) or a log line."""

from __future__ import annotations

import os
import shlex
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ASKPASS_SCRIPT = """#!/bin/sh
# Written by Zpanel for one git call and deleted after it. The token comes from the environment.
case "$1" in
  Username*) printf '%s\\n' "$ZPANEL_GIT_USERNAME" ;;
  *) printf '%s\\n' "$ZPANEL_GIT_TOKEN" ;;
esac
"""


@dataclass(frozen=True)
class GitCredentials:
    """How to reach a private repository. ``ssh_key`` is a private key in OpenSSH format;
    ``known_hosts`` pins the git host's key (without it the key is trusted on first use and kept
    in the cache's known_hosts file); ``token`` is an HTTPS access token."""

    ssh_key: str | None = None
    known_hosts: str | None = None
    token: str | None = None
    username: str = "x-access-token"

    def secrets(self) -> list[str]:
        return [s for s in (self.ssh_key, self.token) if s]

    def __repr__(self) -> str:  # never print a key or a token by accident
        return f"GitCredentials(ssh_key={'set' if self.ssh_key else None}, token={'set' if self.token else None})"


def ssh_command(key_file: Path, known_hosts_file: Path, *, pinned: bool) -> str:
    """The GIT_SSH_COMMAND: only this key, no agent, no user config, strict host keys when pinned."""
    args = [
        "ssh",
        "-F",
        "/dev/null",
        "-i",
        str(key_file),
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "IdentityAgent=none",
        "-o",
        "BatchMode=yes",
        "-o",
        f"UserKnownHostsFile={known_hosts_file}",
        "-o",
        f"StrictHostKeyChecking={'yes' if pinned else 'accept-new'}",
    ]
    return shlex.join(args)


@contextmanager
def credential_env(creds: GitCredentials | None, cache_dir: Path) -> Iterator[dict[str, str]]:
    """Yield the extra environment for git; the temporary key and script are deleted on exit."""
    if creds is None or not (creds.ssh_key or creds.token):
        yield {}
        return
    tmp = Path(tempfile.mkdtemp(prefix="zpanel-git-"))  # mkdtemp makes it 0700
    try:
        env: dict[str, str] = {}
        if creds.ssh_key:
            key = tmp / "id"
            fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(creds.ssh_key if creds.ssh_key.endswith("\n") else creds.ssh_key + "\n")
            if creds.known_hosts:
                known = tmp / "known_hosts"
                known.write_text(creds.known_hosts if creds.known_hosts.endswith("\n") else creds.known_hosts + "\n")
            else:
                cache_dir.mkdir(parents=True, exist_ok=True)
                known = cache_dir / "known_hosts"
            env["GIT_SSH_COMMAND"] = ssh_command(key, known, pinned=bool(creds.known_hosts))
        if creds.token:
            askpass = tmp / "askpass"
            fd = os.open(askpass, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o700)
            with os.fdopen(fd, "w") as f:
                f.write(ASKPASS_SCRIPT)
            env.update(
                {"GIT_ASKPASS": str(askpass), "ZPANEL_GIT_TOKEN": creds.token, "ZPANEL_GIT_USERNAME": creds.username}
            )
        yield env
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
