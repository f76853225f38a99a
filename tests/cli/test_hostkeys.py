"""Pinning a server's host key: lines for this host from a known_hosts file, or a scan of a real
sshd whose fingerprint is shown (and must be accepted)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.cli.fakeapi import Fake
from tests.harness import sshd as sshh
from zpanel.cli import hostkeys

needs_sshd = pytest.mark.skipif(not sshh.available(), reason="needs root and /usr/sbin/sshd")


def test_lines_for_keeps_only_this_host() -> None:
    text = "# comment\nexample.org ssh-ed25519 AAAA1\n[example.org]:2222 ssh-ed25519 AAAA2\nexample.org,10.0.0.1 ssh-rsa AAAA3\n|1|hashed= ssh-ed25519 AAAA4\n"
    assert (
        hostkeys.lines_for(text, "example.org", 22)
        == "example.org ssh-ed25519 AAAA1\nexample.org,10.0.0.1 ssh-rsa AAAA3\n|1|hashed= ssh-ed25519 AAAA4\n"
    )
    assert (
        hostkeys.lines_for(text, "example.org", 2222)
        == "[example.org]:2222 ssh-ed25519 AAAA2\n|1|hashed= ssh-ed25519 AAAA4\n"
    )


@pytest.fixture(scope="module")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sshh.Sshd]:
    server = sshh.start(tmp_path_factory.mktemp("sshd"))
    yield server
    server.stop()


@needs_sshd
def test_scanned_key_is_pinned_only_when_accepted(zpanel, fake: Fake, sshd: sshh.Sshd) -> None:
    args = (
        "server",
        "add",
        "edge",
        "--host",
        "127.0.0.1",
        "--port",
        str(sshd.port),
        "--key",
        str(sshd.client_key_path),
    )
    refused = zpanel(*args)
    assert refused.code == 2
    assert (
        refused.stderr.splitlines()[-1]
        == "zpanel: host key not pinned: pass --known-hosts FILE, or --accept-host-key after checking the fingerprint"
    )
    assert sshd.host_fingerprint in refused.stderr  # the user sees what they would trust
    assert fake.requests == []

    accepted = zpanel(*args, "--accept-host-key", "--json")
    assert accepted.code == 0, accepted.stderr
    sent = json.loads(fake.requests[-1][2])
    assert sent["known_hosts"].split() == sshd.host_key_line.split()
    assert sent["private_key"] == sshd.client_key
