"""The SSH executor against a real sshd on 127.0.0.1."""

import asyncio

import asyncssh
import pytest

from tests.harness.nats import free_port
from tests.harness.sshd import Sshd
from zpanel.remote.errors import AuthenticationError, HostKeyMismatchError, ServerUnreachableError
from zpanel.remote.retry import Backoff
from zpanel.remote.ssh import SshExecutor, SshPool, SshTarget


async def test_argv_arrives_literally_after_one_shell_quoting(remote: SshExecutor) -> None:
    tricky = ["it's", "$HOME", "a b", "`id`", ";", "*"]
    result = await remote.run(["printf", "%s\\n", *tricky])
    assert result.out.splitlines() == tricky


async def test_input_stream_and_exit_codes(remote: SshExecutor) -> None:
    async def chunks():
        for _ in range(10):
            yield b"x" * 50_000

    assert (await remote.run(["wc", "-c"], input=chunks())).out.strip() == "500000"
    result = await remote.run(["sh", "-c", "echo e >&2; exit 7"], check=False)
    assert (result.returncode, result.err) == (7, "e\n")


async def test_write_file_over_ssh_is_0600(remote: SshExecutor, tmp_path) -> None:
    path = tmp_path / "d" / ".env"
    await remote.write_file(str(path), b"SECRET=1\n")
    assert path.read_bytes() == b"SECRET=1\n"
    assert path.stat().st_mode & 0o777 == 0o600


async def test_commands_share_one_pooled_connection(remote: SshExecutor, ssh_pool: SshPool) -> None:
    results = await asyncio.gather(*(remote.run(["echo", str(i)]) for i in range(20)))
    assert [r.out for r in results] == [f"{i}\n" for i in range(20)]
    assert ssh_pool.connects == {"remote": 1}


async def test_host_key_mismatch_is_refused_with_both_fingerprints(sshd: Sshd, ssh_pool: SshPool) -> None:
    impostor = asyncssh.generate_private_key("ssh-ed25519")
    pinned = f"[{sshd.host}]:{sshd.port} " + impostor.export_public_key("openssh").decode()
    ex = SshExecutor(
        SshTarget("pinned", sshd.host, sshd.client_key, pinned, port=sshd.port, connect_timeout=5), ssh_pool
    )
    with pytest.raises(HostKeyMismatchError) as err:
        await ex.run(["true"])
    assert str(err.value) == (
        f"host key of server 'pinned' ({sshd.host}:{sshd.port}) does not match the pinned key: "
        f"expected {impostor.get_fingerprint('sha256')}, the server presented {sshd.host_fingerprint}. "
        "The connection was refused. If the server was reinstalled, verify the new key out of band "
        "and register it again with `zpanel server add ... --known-hosts FILE`"
    )
    assert ssh_pool.connects == {"pinned": 1}  # never retried: retrying cannot make it trusted


async def test_a_refused_key_is_an_authentication_error(sshd: Sshd, ssh_pool: SshPool) -> None:
    stranger = asyncssh.generate_private_key("ssh-ed25519").export_private_key().decode()
    ex = SshExecutor(SshTarget("s", sshd.host, stranger, sshd.host_key_line, port=sshd.port), ssh_pool)
    with pytest.raises(AuthenticationError, match=r"server 's' \(root@127.0.0.1:\d+\) refused the key"):
        await ex.run(["true"])


async def test_unreachable_server_fails_with_the_reason_after_bounded_backoff(sshd: Sshd) -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    pool = SshPool(Backoff(attempts=4, initial=0.5, factor=2, max_delay=1.5, sleep=sleep))
    port = free_port()
    ex = SshExecutor(SshTarget("down", "127.0.0.1", sshd.client_key, sshd.host_key_line, port=port), pool)
    with pytest.raises(ServerUnreachableError) as err:
        await ex.run(["true"])
    assert str(err.value) == (
        f"server 'down' is unreachable after 4 attempt(s): connection refused by 127.0.0.1:{port} "
        "(is sshd running on that port?); check that it is up and that `zpanel server check` passes"
    )
    assert slept == [0.5, 1.0, 1.5]
    assert pool.connects == {"down": 4}
    await pool.close()


async def test_a_dropped_connection_is_replaced(remote: SshExecutor, ssh_pool: SshPool) -> None:
    await remote.run(["true"])
    conn = await ssh_pool.connection(remote.target)
    conn.close()
    await conn.wait_closed()
    assert (await remote.run(["echo", "back"])).out == "back\n"
    assert ssh_pool.connects == {"remote": 2}


def test_the_private_key_never_shows_in_repr(ssh_target: SshTarget) -> None:
    assert "PRIVATE" not in repr(ssh_target)
    assert "PRIVATE" not in repr(SshExecutor(ssh_target, SshPool()))
