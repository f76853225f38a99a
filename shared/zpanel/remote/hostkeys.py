"""Host keys: pin them from known_hosts text, fetch one for ``server add`` to show.

A server's record holds the known_hosts line(s) pinned for it; every key in them is trusted for
that server and no other key ever is. The host patterns in the lines are informational (the record
is per server), so a server reached under a new address keeps its pin.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

from zpanel.lazy import lazy_module
from zpanel.remote.errors import InvalidKnownHostsError, RemoteError

if TYPE_CHECKING:
    import asyncssh

    KnownHosts = tuple[list[asyncssh.SSHKey], list[asyncssh.SSHKey], list[asyncssh.SSHKey]]
else:
    asyncssh = lazy_module("asyncssh")  # 15 MB RSS with cryptography: loaded when a server uses SSH


@dataclass(frozen=True)
class HostKey:
    line: str  # known_hosts format: "[host]:port ssh-ed25519 AAAA…" (plain host for port 22)
    fingerprint: str  # "SHA256:…", as `ssh-keygen -lf` shows it
    algorithm: str


def host_pattern(host: str, port: int) -> str:
    return host if port == 22 else f"[{host}]:{port}"


def describe(key: asyncssh.SSHKey, host: str, port: int) -> HostKey:
    public = key.export_public_key("openssh").decode().strip()
    algorithm, blob = public.split()[:2]
    return HostKey(f"{host_pattern(host, port)} {algorithm} {blob}", key.get_fingerprint("sha256"), algorithm)


def pinned(known_hosts: str) -> KnownHosts:
    """Parse known_hosts text into asyncssh's (trusted, CA, revoked) key lists."""
    trusted: list[asyncssh.SSHKey] = []
    cas: list[asyncssh.SSHKey] = []
    revoked: list[asyncssh.SSHKey] = []
    for number, raw in enumerate(known_hosts.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        fields = line.split()
        target = trusted
        if fields[0].startswith("@"):
            marker, fields = fields[0], fields[1:]
            if marker == "@cert-authority":
                target = cas
            elif marker == "@revoked":
                target = revoked
            else:
                raise InvalidKnownHostsError(f"known_hosts line {number}: unknown marker {marker}")
        if len(fields) < 3:
            raise InvalidKnownHostsError(f"known_hosts line {number} is not 'HOST KEYTYPE KEY'")
        try:
            target.append(asyncssh.import_public_key(f"{fields[1]} {fields[2]}"))
        except (asyncssh.KeyImportError, ValueError) as exc:
            raise InvalidKnownHostsError(f"known_hosts line {number}: {exc}") from exc
    if not trusted and not cas:
        raise InvalidKnownHostsError(
            "no host key is pinned for this server: add it with `zpanel server add --known-hosts FILE` "
            "or confirm the fingerprint `zpanel server add` shows"
        )
    return trusted, cas, revoked


def fingerprints(known_hosts: str) -> list[str]:
    trusted, cas, _ = pinned(known_hosts)
    return [k.get_fingerprint("sha256") for k in trusted + cas]


async def fetch_host_key(host: str, port: int = 22, timeout: float = 10.0) -> HostKey:
    """The key the server presents now, for the user to compare with one they know. Trusting it is
    the caller's decision (show the fingerprint, ask): nothing here accepts it."""
    try:
        async with asyncio.timeout(timeout):
            key = await asyncssh.get_server_host_key(host, port)
    except (OSError, TimeoutError, asyncssh.Error) as exc:
        raise RemoteError(f"could not read the host key of {host}:{port}: {exc or type(exc).__name__}") from exc
    if key is None:
        raise RemoteError(f"{host}:{port} presented no host key")
    return describe(key, host, port)
