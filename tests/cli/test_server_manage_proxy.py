"""``zpanel server add --no-manage-proxy``: the server keeps its own Traefik; Zpanel is told so."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.fakeapi import Fake
from tests.cli.test_servers import files


def test_no_manage_proxy_is_sent_and_the_default_sends_nothing(zpanel, fake: Fake, tmp_path: Path) -> None:
    key, known = files(tmp_path)
    r = zpanel("server", "add", "edge-1", "--host", "10.0.0.5", "--port", "2222", "--key", str(key), "--known-hosts", str(known), "--no-manage-proxy", "--json")  # fmt: skip
    assert r.code == 0, r.stderr
    assert json.loads(fake.requests[-1][2])["manage_proxy"] is False
    r = zpanel("server", "add", "edge-1", "--host", "10.0.0.5", "--port", "2222", "--key", str(key), "--known-hosts", str(known), "--json")  # fmt: skip
    assert r.code == 0, r.stderr
    assert "manage_proxy" not in json.loads(fake.requests[-1][2])
