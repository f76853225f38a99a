import json
from datetime import UTC, datetime

from zpanel.models import ContainerRef
from zpanel_deployer.containers import parse_image_ls, parse_inspect

INSPECT = [
    {
        "Id": "abc123",
        "Name": "/web-d1-1",
        "Image": "sha256:ff",
        "Created": "2026-11-27T10:00:00Z",
        "State": {"Running": True, "Status": "running"},
        "Config": {"Image": "zpanel/web:1", "Labels": {"zpanel.deployment": "d1", "zpanel.replica": "1"}},
        "NetworkSettings": {
            "Ports": {"8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": "49153"}], "9000/tcp": None},
            "Networks": {"bridge": {"IPAddress": "172.17.0.5"}, "zpanel": {"IPAddress": "172.20.0.2"}},
        },
    }
]


def test_parse_inspect_and_addresses() -> None:
    (info,) = parse_inspect(json.dumps(INSPECT))
    assert (info.name, info.image, info.image_id, info.running, info.deployment, info.replica) == (
        "web-d1-1", "zpanel/web:1", "sha256:ff", True, "d1", 1,
    )  # fmt: skip
    assert info.ports == {"8080/tcp": ["127.0.0.1:49153"], "9000/tcp": []}
    assert info.ref(8080) == ContainerRef(id="abc123", name="web-d1-1", address="127.0.0.1:49153", replica=1)
    assert info.address(9000, "zpanel") == "web-d1-1:9000"
    assert info.address(9000) == "172.17.0.5:9000"


def test_parse_inspect_of_nothing() -> None:
    assert parse_inspect("") == []
    assert parse_inspect("[]") == []


def test_parse_image_ls() -> None:
    text = "\n".join(
        json.dumps(row)
        for row in [
            {"Repository": "zpanel/web", "Tag": "2", "ID": "sha256:b", "CreatedAt": "2026-11-27 10:11:12 +0000 UTC"},
            {
                "Repository": "zpanel/web",
                "Tag": "<none>",
                "ID": "sha256:a",
                "CreatedAt": "2026-11-26 09:00:00 +0100 CET",
            },
        ]
    )
    images = parse_image_ls(text + "\n")
    assert [(i.ref, i.id) for i in images] == [("zpanel/web:2", "sha256:b"), ("sha256:a", "sha256:a")]
    assert images[1].created == datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
