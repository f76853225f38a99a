"""The deployer's own errors. Each message is meant for the user: it names the server or container
and says what to do. Reaching a server and running a command there fail with the errors of
:mod:`zpanel.remote.errors` (``CommandError``, ``ServerUnreachableError``, …)."""

from __future__ import annotations

from zpanel.errors import PermanentError, ZpanelError


class DeployerError(ZpanelError):
    """Base of everything the deployer raises on purpose."""


class PreDeployError(DeployerError, PermanentError):
    """The pre-deployment command failed: the deployment stops, the old version keeps serving."""

    def __init__(self, command: str, returncode: int | None, output: list[str]) -> None:
        super().__init__(
            f"the pre-deployment command exited with {returncode}; the previous version is untouched. "
            "Fix the command (see its last output lines) and deploy again"
        )
        self.command = command
        self.returncode = returncode
        self.output = output


class StepFailedError(DeployerError):
    """A step of the plan failed (a container did not start, a health check failed)."""


class ImageMissingError(DeployerError, PermanentError):
    """The image to deploy is not where it should be."""
