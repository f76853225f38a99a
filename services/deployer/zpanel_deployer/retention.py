"""Which old containers and images of an app to remove after a successful deployment. Pure.

Keeps the newest ``keep`` deployments' containers and the newest ``keep`` images, and never what
is protected: the current version, the rollback target, and any image a remaining container uses.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from zpanel_deployer.containers import ContainerInfo, ImageInfo


def containers_to_remove(
    containers: Sequence[ContainerInfo], keep: int, protect_deployments: Collection[str]
) -> list[ContainerInfo]:
    newest: dict[str, str] = {}
    for c in containers:
        newest[c.deployment] = max(newest.get(c.deployment, ""), c.created)
    order = sorted(newest, key=lambda d: newest[d], reverse=True)
    kept = set(order[:keep]) | set(protect_deployments)
    return [c for c in containers if c.deployment not in kept and not c.running]


def images_to_remove(
    images: Sequence[ImageInfo], keep: int, protect: Collection[str], recent: Sequence[str] = ()
) -> list[str]:
    """``protect`` holds refs or ids. ``recent``: the images of the app's latest deployments, newest
    first (what "the last N" means; a cached rebuild can make an old image current); images no
    deployment names rank after them by creation time. Images sharing an id count once."""
    protected_ids = {i.id for i in images if i.ref in protect or i.id in protect}
    by_ref = {i.ref: i.id for i in images}
    ids: list[str] = []
    ranked = [by_ref[r] for r in recent if r in by_ref]
    ranked += [i.id for i in sorted(images, key=lambda i: i.created, reverse=True)]
    for id_ in ranked:
        if id_ not in ids:
            ids.append(id_)
    kept = set(ids[:keep]) | protected_ids
    return [i.ref for i in images if i.id not in kept]


def repository(image: str) -> str:
    """``registry:5000/zpanel/web:abc`` → ``registry:5000/zpanel/web`` (a tag never holds '/')."""
    ref = image.split("@", 1)[0]
    head, sep, tag = ref.rpartition(":")
    return head if sep and "/" not in tag else ref
