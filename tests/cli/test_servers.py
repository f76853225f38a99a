"""``zpanel server …``: the body sent (key read from the file, host key pinned), checks, errors."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.fakeapi import Fake

KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n"
HOSTKEY = "[10.0.0.5]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE1xq1aFQ9Xcx6hXvCzq6xW1Z8JqH0oZQ2l3d3Y0b9mD"


def files(tmp_path: Path) -> tuple[Path, Path]:
    key = tmp_path / "id_ed25519"
    key.write_text(KEY)
    known = tmp_path / "known_hosts"
    known.write_text(f"other.example ssh-ed25519 AAAAother\n{HOSTKEY}\n")
    return key, known


def test_add_sends_the_key_and_only_this_hosts_pinned_key(zpanel, fake: Fake, tmp_path: Path) -> None:
    key, known = files(tmp_path)
    r = zpanel("server", "add", "edge-1", "--host", "10.0.0.5", "--port", "2222", "--key", str(key), "--known-hosts", str(known), "--json")  # fmt: skip
    assert r.code == 0, r.stderr
    method, path, body = fake.requests[-1]
    assert (method, path) == ("POST", "/api/v1/servers")
    sent = {
        "name": "edge-1",
        "kind": "ssh",
        "host": "10.0.0.5",
        "port": 2222,
        "user": "root",
        "private_key": KEY,
        "known_hosts": HOSTKEY + "\n",
        "proxy": "traefik",
    }
    assert json.loads(body) == sent
    assert r.json() == {k: v for k, v in sent.items() if k != "private_key"}
    assert KEY not in r.stdout


def test_add_refuses_a_known_hosts_file_without_this_host(zpanel, fake: Fake, tmp_path: Path) -> None:
    key, known = files(tmp_path)
    r = zpanel("server", "add", "edge-2", "--host", "10.0.0.6", "--key", str(key), "--known-hosts", str(known))
    assert (r.code, r.stderr) == (
        2,
        f"zpanel: {known} has no host key for 10.0.0.6; add one (ssh-keyscan) or drop --known-hosts\n",
    )
    assert fake.requests == []


def test_add_refuses_a_file_that_is_not_a_private_key(zpanel, tmp_path: Path) -> None:
    _, known = files(tmp_path)
    r = zpanel("server", "add", "edge-3", "--host", "10.0.0.5", "--key", str(known), "--known-hosts", str(known))
    assert (r.code, r.stderr) == (2, f"zpanel: --key {known} is not a private key (PEM or OpenSSH format)\n")


def test_check_exits_1_naming_the_failed_part(zpanel) -> None:
    good = zpanel("server", "check", "edge-1", "--json")
    assert (good.code, good.json()["docker"]["ok"]) == (0, True)
    bad = zpanel("server", "check", "broken")
    assert bad.code == 1
    assert bad.stderr == "zpanel: server broken: Docker check failed: permission denied on /var/run/docker.sock\n"


def test_dlq_list_and_replay(zpanel, fake: Fake) -> None:
    listed = zpanel("dlq", "list", "--json")
    assert listed.code == 0
    assert [d["id"] for d in listed.json()] == ["7"]
    r = zpanel("dlq", "replay", "7", "--json")
    assert (r.code, r.json()) == (0, {"id": "7", "replayed_as": 42})
    assert fake.requests[-1][:2] == ("POST", "/api/v1/dlq/7/replay")
