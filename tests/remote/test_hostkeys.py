import asyncssh
import pytest

from tests.harness.nats import free_port
from tests.harness.sshd import Sshd
from zpanel.remote import hostkeys
from zpanel.remote.errors import InvalidKnownHostsError, RemoteError

KEY = asyncssh.generate_private_key("ssh-ed25519")
PUB = KEY.export_public_key("openssh").decode().split()


def test_pinned_reads_every_key_whatever_the_host_pattern() -> None:
    other = asyncssh.generate_private_key("ssh-ed25519").export_public_key("openssh").decode().split()
    text = f"# pinned\n[10.0.0.1]:2222 {PUB[0]} {PUB[1]} comment\n\n@revoked * {other[0]} {other[1]}\n"
    trusted, cas, revoked = hostkeys.pinned(text)
    assert [k.get_fingerprint("sha256") for k in trusted] == [KEY.get_fingerprint("sha256")]
    assert cas == []
    assert len(revoked) == 1


def test_pinned_refuses_text_without_a_key() -> None:
    with pytest.raises(InvalidKnownHostsError, match="no host key is pinned for this server"):
        hostkeys.pinned("# nothing\n")
    with pytest.raises(InvalidKnownHostsError, match="known_hosts line 1 is not 'HOST KEYTYPE KEY'"):
        hostkeys.pinned("host ssh-ed25519\n")


def test_host_pattern() -> None:
    assert hostkeys.host_pattern("h", 22) == "h"
    assert hostkeys.host_pattern("h", 2222) == "[h]:2222"


async def test_fetch_host_key_returns_the_line_and_fingerprint_of_the_server(sshd: Sshd) -> None:
    key = await hostkeys.fetch_host_key(sshd.host, sshd.port)
    assert key.line == sshd.host_key_line
    assert key.fingerprint == sshd.host_fingerprint
    assert key.algorithm == "ssh-ed25519"


async def test_fetch_host_key_of_a_closed_port_says_so() -> None:
    port = free_port()
    with pytest.raises(RemoteError, match=rf"could not read the host key of 127.0.0.1:{port}"):
        await hostkeys.fetch_host_key("127.0.0.1", port, timeout=5)
