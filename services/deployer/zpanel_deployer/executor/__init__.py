"""Where docker argv lists run: the local engine (subprocess) or a server over SSH (asyncssh)."""

from zpanel_deployer.executor.base import Executor, Input, Result
from zpanel_deployer.executor.local import LocalExecutor
from zpanel_deployer.executor.retry import Backoff
from zpanel_deployer.executor.ssh import SshExecutor, SshPool, SshTarget

__all__ = ["Backoff", "Executor", "Input", "LocalExecutor", "Result", "SshExecutor", "SshPool", "SshTarget"]
