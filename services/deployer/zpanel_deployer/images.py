"""Getting the image onto the target server: pulled when the build pushed it to a registry, else
streamed ``docker save | docker load`` over SSH. Skipped when the target has the same image id."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from zpanel.remote.base import Executor
from zpanel_deployer.commands import docker
from zpanel_deployer.errors import ImageMissingError


@dataclass(frozen=True)
class Delivery:
    image: str
    image_id: str
    how: str  # "present", "pulled" or "streamed"
    bytes: int = 0


async def image_id(executor: Executor, image: str) -> str | None:
    result = await executor.run(docker.image_id(image), check=False)
    return result.out.strip() if result.ok else None


async def deliver_image(
    source: Executor, target: Executor, image: str, *, pull: bool = False, force: bool = False
) -> Delivery:
    if pull:
        await target.run(docker.pull(image))
        return Delivery(image, await image_id(target, image) or "", "pulled")
    wanted = await image_id(source, image)
    if wanted is None:
        raise ImageMissingError(
            f"image {image} is not on the build server {source.server!r}: deploy again to rebuild it"
        )
    if not force and (source is target or await image_id(target, image) == wanted):
        return Delivery(image, wanted, "present")
    sent = 0

    async def counted(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
        nonlocal sent
        async for chunk in chunks:
            sent += len(chunk)
            yield chunk

    async with source.stream(docker.save(image)) as chunks:
        await target.run(docker.load(), input=counted(chunks))
    return Delivery(image, wanted, "streamed", sent)
