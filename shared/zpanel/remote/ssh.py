"""Runs argv lists on a server over SSH (asyncssh), shell-quoted once here with ``shlex.join``.

One connection per server, shared by every deployment to it (the pool); SSH channels on it are
capped below OpenSSH's default ``MaxSessions 10``. Connecting retries with backoff under a lock of
that server only, so an unreachable server never holds up work for another.
The private key arrives as text (opened by the caller), is parsed in memory and never written out.
"""

from __future__ import annotations

import asyncio
import contextlib
import shlex
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from zpanel.lazy import lazy_module
from zpanel.remote import hostkeys
from zpanel.remote.base import Input, Result, checked, chunks, write_all, write_file_argv
from zpanel.remote.errors import AuthenticationError, HostKeyMismatchError, ServerUnreachableError
from zpanel.remote.retry import Backoff

if TYPE_CHECKING:
    import asyncssh
else:
    asyncssh = lazy_module("asyncssh")  # 15 MB RSS with cryptography: loaded on the first SSH connection

MAX_CHANNELS = 8


@dataclass(frozen=True)
class SshTarget:
    server: str
    host: str
    private_key: str = field(repr=False)
    known_hosts: str = ""
    port: int = 22
    user: str = "root"
    connect_timeout: float = 10.0

    @property
    def address(self) -> str:
        return f"{self.user}@{self.host}:{self.port}"


def _reason(exc: BaseException, target: SshTarget) -> str:
    where = f"{target.host}:{target.port}"
    if isinstance(exc, ConnectionRefusedError):
        return f"connection refused by {where} (is sshd running on that port?)"
    if isinstance(exc, TimeoutError):
        return f"no answer from {where} within {target.connect_timeout:g}s"
    if isinstance(exc, OSError) and exc.strerror:
        return f"{where}: {exc.strerror}"
    return f"{where}: {type(exc).__name__}: {exc}".rstrip(": ")


class SshPool:
    """Connections by server name. Replaced when the target changes (server re-added) or closes."""

    def __init__(self, backoff: Backoff | None = None, max_channels: int = MAX_CHANNELS) -> None:
        self.backoff = backoff or Backoff()
        self.max_channels = max_channels
        self._conns: dict[str, tuple[SshTarget, asyncssh.SSHClientConnection]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._channels: dict[str, asyncio.Semaphore] = {}
        self.connects: dict[str, int] = {}  # attempts per server, for `server check` and tests

    def channels(self, server: str) -> asyncio.Semaphore:
        return self._channels.setdefault(server, asyncio.Semaphore(self.max_channels))

    async def connection(self, target: SshTarget) -> asyncssh.SSHClientConnection:
        async with self._locks.setdefault(target.server, asyncio.Lock()):
            held = self._conns.get(target.server)
            if held and held[0] == target and not held[1].is_closed():
                return held[1]
            if held:
                held[1].close()
                del self._conns[target.server]
            conn = await self._connect(target)
            self._conns[target.server] = (target, conn)
            return conn

    async def drop(self, target: SshTarget, conn: asyncssh.SSHClientConnection) -> None:
        async with self._locks.setdefault(target.server, asyncio.Lock()):
            held = self._conns.get(target.server)
            if held and held[1] is conn:
                del self._conns[target.server]
        conn.close()

    async def _connect(self, target: SshTarget) -> asyncssh.SSHClientConnection:
        known = hostkeys.pinned(target.known_hosts)
        try:
            client_key = asyncssh.import_private_key(target.private_key)
        except (asyncssh.KeyImportError, ValueError) as exc:
            # the message of a key parser may quote key material: say only what to do
            raise AuthenticationError(
                f"the private key stored for server {target.server!r} cannot be read; "
                "register it again with `zpanel server add --key FILE` (an unencrypted OpenSSH key)"
            ) from exc
        delays = self.backoff.delays()
        reason = ""
        for attempt in range(1, self.backoff.attempts + 1):
            self.connects[target.server] = self.connects.get(target.server, 0) + 1
            try:
                async with asyncio.timeout(target.connect_timeout):
                    return await asyncssh.connect(
                        target.host,
                        target.port,
                        username=target.user,
                        client_keys=[client_key],
                        known_hosts=known,
                        agent_path=None,
                        config=None,
                        keepalive_interval=30,
                    )
            except asyncssh.HostKeyNotVerifiable as exc:
                raise HostKeyMismatchError(
                    target.server,
                    f"{target.host}:{target.port}",
                    hostkeys.fingerprints(target.known_hosts),
                    await self._presented(target, known),
                ) from exc
            except asyncssh.PermissionDenied as exc:
                raise AuthenticationError(
                    f"server {target.server!r} ({target.address}) refused the key: add its public key "
                    f"to ~{target.user}/.ssh/authorized_keys there"
                ) from exc
            except (OSError, TimeoutError, asyncssh.Error) as exc:
                reason = _reason(exc, target)
            if attempt < self.backoff.attempts:
                await self.backoff.sleep(delays[attempt - 1])
        raise ServerUnreachableError(target.server, reason, self.backoff.attempts)

    @staticmethod
    async def _presented(target: SshTarget, known: hostkeys.KnownHosts) -> str | None:
        """The fingerprint the server shows, of the pinned key's type, for the error message."""
        algs = sorted({k.get_algorithm() for k in known[0] + known[1]})
        try:
            async with asyncio.timeout(5):
                key = await asyncssh.get_server_host_key(target.host, target.port, server_host_key_algs=algs)
        except (OSError, TimeoutError, asyncssh.Error):
            return None
        return key.get_fingerprint("sha256") if key else None

    async def close(self) -> None:
        conns = [c for _, c in self._conns.values()]
        self._conns.clear()
        for conn in conns:
            conn.close()
        for conn in conns:
            with contextlib.suppress(Exception):
                await conn.wait_closed()


async def _feed(stdin: asyncssh.SSHWriter[bytes], data: Input) -> None:
    try:
        await write_all(stdin, data)
    except (BrokenPipeError, ConnectionResetError, asyncssh.Error):
        pass  # the remote command exited early; its exit status tells why
    finally:
        with contextlib.suppress(OSError, asyncssh.Error):
            stdin.write_eof()


class SshExecutor:
    def __init__(self, target: SshTarget, pool: SshPool) -> None:
        self.server = target.server
        self.target = target
        self.pool = pool

    def __repr__(self) -> str:
        return f"SshExecutor({self.server!r}, {self.target.address})"

    async def _open(self, command: str) -> asyncssh.SSHClientProcess[Any]:
        """A process on the pooled connection; a connection found dead is replaced once."""
        for attempt in (1, 2):
            conn = await self.pool.connection(self.target)
            try:
                return await conn.create_process(command, encoding=None)
            except (asyncssh.ChannelOpenError, asyncssh.ConnectionLost, OSError) as exc:
                await self.pool.drop(self.target, conn)
                if attempt == 2:
                    raise ServerUnreachableError(self.server, _reason(exc, self.target), 2) from exc
        raise AssertionError("unreachable")

    async def run(
        self, argv: Sequence[str], *, input: Input = None, check: bool = True, timeout: float | None = None
    ) -> Result:
        argv = list(argv)
        async with self.pool.channels(self.server):
            proc = await self._open(shlex.join(argv))
            try:
                async with asyncio.timeout(timeout):
                    out: bytes
                    err: bytes
                    out, err, _ = await asyncio.gather(proc.stdout.read(), proc.stderr.read(), _feed(proc.stdin, input))
                    await proc.wait_closed()
            except asyncssh.ConnectionLost as exc:
                raise ServerUnreachableError(self.server, f"connection lost while running {argv[:2]}", 1) from exc
            finally:
                proc.close()
        return checked(self.server, Result(argv, proc.exit_status, out, err), check)

    @contextlib.asynccontextmanager
    async def stream(self, argv: Sequence[str]) -> AsyncIterator[AsyncIterator[bytes]]:
        argv = list(argv)
        async with self.pool.channels(self.server):
            proc = await self._open(shlex.join(argv))
            proc.stdin.write_eof()
            err_task = asyncio.ensure_future(proc.stderr.read())
            stdout = proc.stdout

            try:
                yield chunks(stdout)
                if not stdout.at_eof():
                    proc.close()
                err: bytes = await err_task
                await proc.wait_closed()
            finally:
                proc.close()
                err_task.cancel()
        checked(self.server, Result(argv, proc.exit_status, b"", err), True)

    async def write_file(self, path: str, data: bytes, mode: int = 0o600) -> None:
        await self.run(write_file_argv(path, mode), input=data)

    async def close(self) -> None:
        return None  # the pool owns the connection
