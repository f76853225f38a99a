"""What a service process imports: libraries deferred until first use, so an idle service does not
pay for one it may never call (asyncssh with no SSH server, apprise with nothing to notify, docker
in the gateway), and optional extras no service uses refused outright (``refuse_unused_extras``).

``lazy_module("asyncssh")`` returns at once a stand-in that imports the real module on the first
attribute read and then reads from it. Every use keeps working — an ``except asyncssh.Error``
evaluated only when an exception arrives imports it then — so a call site changes its
``import X`` line only::

    if TYPE_CHECKING:
        import asyncssh
    else:
        asyncssh = lazy_module("asyncssh")

No zpanel or third-party import here: this module is imported before the heavy ones.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from types import ModuleType
from typing import Any


class _Deferred(ModuleType):
    """Stands for a module until an attribute is read. The real module is imported by
    ``importlib.import_module`` (its per-module locks make a first use from two threads safe, which
    3.11's ``LazyLoader`` is not) and lives in ``sys.modules`` as usual, so ``import X`` elsewhere
    and monkeypatching X in tests see the same module."""

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self.__name__), attr)


def lazy_module(name: str) -> ModuleType:
    """The module ``name``, imported on first attribute read (the module itself if already loaded).
    A name that is not installed fails here, at once, not at first use."""
    found = sys.modules.get(name)
    if found is not None:
        return found
    if importlib.util.find_spec(name) is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    return _Deferred(name)


def is_loaded(name: str) -> bool:
    """True once ``name`` has really been imported in this process. For tests and benches."""
    return sys.modules.get(name) is not None


# Optional imports that libraries take only because the package is installed, and that no service
# uses: structlog.dev imports rich (5.5 MB RSS) for its console renderer, httpx imports rich and
# pygments for its command line, structlog.threadlocal imports greenlet (1 MB; installed for
# playwright in the tests). The CLI keeps rich: only service processes refuse them.
UNUSED_EXTRAS = ("rich", "pygments", "greenlet")


def refuse_unused_extras() -> None:
    """Make ``import rich`` (and the rest of ``UNUSED_EXTRAS``) fail in this process as if the
    package were not installed, so the libraries that treat it as optional skip it. Call it first
    thing in a service's ``__main__`` — never in a module the CLI or the tests import."""
    for name in UNUSED_EXTRAS:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]  # None: ImportError on import
