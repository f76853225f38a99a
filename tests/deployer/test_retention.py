from datetime import UTC, datetime

from zpanel_deployer.containers import ContainerInfo, ImageInfo
from zpanel_deployer.retention import containers_to_remove, images_to_remove, repository


def c(name: str, dep: str, created: str, running: bool = False) -> ContainerInfo:
    return ContainerInfo(
        id=name, name=name, image="i", image_id="sha", running=running, status="", created=created,
        labels={"zpanel.deployment": dep},
    )  # fmt: skip


def test_containers_of_deployments_beyond_keep_go_unless_protected_or_running() -> None:
    cs = [
        c("d5-0", "d5", "2026-01-05", running=True),
        c("d4-0", "d4", "2026-01-04"),
        c("d3-0", "d3", "2026-01-03"),
        c("d2-0", "d2", "2026-01-02"),
        c("d1-0", "d1", "2026-01-01", running=True),
        c("d0-0", "d0", "2026-01-00"),
    ]
    assert [x.name for x in containers_to_remove(cs, 2, {"d3"})] == ["d2-0", "d0-0"]


def img(ref: str, id_: str, day: int) -> ImageInfo:
    return ImageInfo(ref, id_, datetime(2026, 1, day, tzinfo=UTC))


def test_images_keep_newest_n_ids_and_protected_ones() -> None:
    images = [img("w:5", "s5", 5), img("w:4", "s4", 4), img("w:4b", "s4", 4), img("w:3", "s3", 3), img("w:1", "s1", 1)]
    assert images_to_remove(images, 2, {"w:1"}) == ["w:3"]
    assert images_to_remove(images, 1, {"s4"}) == ["w:3", "w:1"]


def test_repository_of_an_image_reference() -> None:
    assert repository("zpanel/web:abc") == "zpanel/web"
    assert repository("registry:5000/zpanel/web:abc") == "registry:5000/zpanel/web"
    assert repository("registry:5000/zpanel/web") == "registry:5000/zpanel/web"
    assert repository("web@sha256:00") == "web"


def test_images_rank_by_recent_deployments_before_creation_time() -> None:
    images = [img("w:new", "s3", 3), img("w:mid", "s2", 2), img("w:cached", "s1", 1)]
    assert images_to_remove(images, 2, set(), recent=["w:cached", "w:mid"]) == ["w:new"]
