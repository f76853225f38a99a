"""Image delivery to a server over SSH (the "remote" is this machine, sharing its engine)."""

import pytest

from tests.deployer.conftest import Images
from zpanel.remote.local import LocalExecutor
from zpanel.remote.ssh import SshExecutor
from zpanel_deployer.errors import ImageMissingError
from zpanel_deployer.images import deliver_image, image_id


async def test_same_image_id_on_the_target_is_not_sent_again(remote: SshExecutor, images: Images) -> None:
    local = LocalExecutor()
    delivery = await deliver_image(local, remote, images.v1)
    assert (delivery.how, delivery.bytes) == ("present", 0)
    assert delivery.image_id == await image_id(local, images.v1)


async def test_docker_save_streams_into_docker_load_over_ssh(remote: SshExecutor, images: Images) -> None:
    # the target's engine is the source's, so force the transfer to exercise the stream itself
    delivery = await deliver_image(LocalExecutor(), remote, images.v2, force=True)
    assert delivery.how == "streamed"
    assert delivery.bytes > 1_000_000  # the busybox layer travelled
    assert await image_id(remote, images.v2) == delivery.image_id


async def test_an_image_missing_at_the_source_is_a_permanent_error(remote: SshExecutor) -> None:
    with pytest.raises(ImageMissingError, match="image zpanel-test/none:0 is not on the build server 'local'"):
        await deliver_image(LocalExecutor(), remote, "zpanel-test/none:0")
