"""A real OpenSSH server on 127.0.0.1 for tests: its own config, host key, client key,
authorized_keys and port, run in the foreground (``-D``) and stopped after.

Debian's ``/usr/sbin/sshd`` as root beside anything else (see FACTS.md "SSH"). The "remote" server it
gives is this same machine, so commands run over it reach the same Docker engine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import asyncssh

from tests.harness.nats import free_port, wait_port

SSHD = "/usr/sbin/sshd"


@dataclass
class Sshd:
    root: Path
    host: str = "127.0.0.1"
    port: int = field(default_factory=free_port)
    user: str = "root"
    proc: subprocess.Popen[bytes] | None = None

    @property
    def client_key_path(self) -> Path:
        return self.root / "client_ed25519"

    @property
    def client_key(self) -> str:
        """The client private key as text (OpenSSH format), as the deployer receives it."""
        return self.client_key_path.read_text()

    @property
    def host_key_line(self) -> str:
        """The host public key as a known_hosts line: ``[127.0.0.1]:PORT ssh-ed25519 AAAA…``."""
        return (self.root / "host_known").read_text().strip()

    @property
    def host_fingerprint(self) -> str:
        return asyncssh.read_public_key(self.root / "host_ed25519.pub").get_fingerprint("sha256")

    def _write_keys(self) -> None:
        host = asyncssh.generate_private_key("ssh-ed25519")
        host.write_private_key(self.root / "host_ed25519")
        host.write_public_key(self.root / "host_ed25519.pub")
        public = host.export_public_key("openssh").decode().split()
        (self.root / "host_known").write_text(f"[{self.host}]:{self.port} {public[0]} {public[1]}\n")
        client = asyncssh.generate_private_key("ssh-ed25519", comment="zpanel-test")
        client.write_private_key(self.client_key_path)
        (self.root / "authorized_keys").write_bytes(client.export_public_key("openssh"))
        for name in ("host_ed25519", "client_ed25519"):
            os.chmod(self.root / name, 0o600)

    def config(self) -> str:
        return "\n".join(
            [
                f"Port {self.port}",
                f"ListenAddress {self.host}",
                f"HostKey {self.root / 'host_ed25519'}",
                f"AuthorizedKeysFile {self.root / 'authorized_keys'}",
                f"PidFile {self.root / 'sshd.pid'}",
                "UsePAM no",
                "StrictModes no",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PubkeyAuthentication yes",
                "PermitRootLogin prohibit-password",
                f"AllowUsers {self.user}",
                # parallel tests open many channels on one pooled connection
                "MaxSessions 64",
                "MaxStartups 64:30:128",
                "LogLevel ERROR",
                # a clean home: bash run by sshd sources ~/.bashrc even for `bash -c`, and a
                # developer's rc (pyenv init, …) would add ~0.4 s to every command
                f"SetEnv HOME={self.root / 'home'}",
                "",
            ]
        )

    def start(self) -> Sshd:
        if not Path(SSHD).exists():
            raise RuntimeError(f"{SSHD} is missing: apt-get install openssh-server (.ci/run does)")
        Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # sshd's privilege separation dir
        (self.root / "home").mkdir(parents=True, exist_ok=True)
        self._write_keys()
        conf = self.root / "sshd_config"
        conf.write_text(self.config())
        log = open(self.root / "sshd.log", "ab")  # noqa: SIM115 - lives as long as the process
        self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(conf)], stdout=log, stderr=log)
        try:
            wait_port(self.port)
        except TimeoutError:
            self.stop()
            raise RuntimeError(f"sshd did not start: {(self.root / 'sshd.log').read_text()[-2000:]}") from None
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def start(root: Path | None = None) -> Sshd:
    return Sshd(Path(root or tempfile.mkdtemp(prefix="zpanel-sshd-"))).start()


def available() -> bool:
    return Path(SSHD).exists() and os.geteuid() == 0 and shutil.which("docker") is not None
