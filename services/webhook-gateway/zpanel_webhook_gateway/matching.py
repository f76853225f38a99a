"""Which applications a push or a pull request deploys.

Repositories are compared by identity, not by URL text: ``https://github.com/Acme/App.git``,
``git@github.com:acme/app``, ``ssh://git@github.com:22/acme/app.git`` and Bitbucket's web link
``https://bitbucket.org/acme/app`` (its pushes carry no clone URL) all name one repository.
Hosts and paths of network repositories compare case-insensitively; users, ports, schemes and a
trailing ``.git`` are ignored (one server serves ssh and https on different ports). Local
repositories (``/srv/git/app.git``, ``file://…``) compare by their exact path.
"""

from __future__ import annotations

import fnmatch
import functools
import posixpath
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple
from urllib.parse import unquote, urlsplit

from zpanel.events import PullRequestReceived, PushReceived
from zpanel.models import Application

# user@host:path, git's "scp-like" syntax; a one-letter host would be a Windows drive.
_SCP_RE = re.compile(r"^(?:[^@/\s]+@)?(?P<host>[^:/\s]{2,}):(?P<path>[^\s]+)$")


class RepoIdentity(NamedTuple):  # a tuple: compared in C, once per registered app per webhook
    host: str  # lower case, no user or port; "" for a repository on the local file system
    path: str  # "owner/name" (GitLab: "group/subgroup/name"); for a local repository its path

    def __str__(self) -> str:
        return f"{self.host}/{self.path}" if self.host else self.path


@functools.lru_cache(maxsize=8192)
def identity(url: str) -> RepoIdentity | None:
    """The identity of a repository URL, or None when ``url`` names no repository.

    Cached: every webhook compares its repository with every registered application's, and the
    URLs are few and immutable, so parsing each once keeps matching to a dictionary look-up."""
    url = url.strip()
    if not url:
        return None
    if "://" in url:
        try:
            parts = urlsplit(url)
            host = parts.hostname or ""
        except ValueError:
            return None
        if parts.scheme.lower() == "file":
            return _local(unquote(parts.path))
        return _network(host, unquote(parts.path))
    if url.startswith(("/", "./", "../", "~")):
        return _local(url)
    scp = _SCP_RE.match(url)
    if scp:
        return _network(scp["host"], scp["path"])
    return None


def same_repo(a: str, b: str) -> bool:
    ida = identity(a)
    return ida is not None and ida == identity(b)


class AppIndex:
    """Applications by repository identity: a webhook's candidates in one dictionary look-up
    instead of a comparison per registered application (the catalogue keeps one up to date)."""

    def __init__(self, apps: Iterable[Application]) -> None:
        self.apps = list(apps)
        self.by_repo: dict[RepoIdentity, list[Application]] = {}
        for app in self.apps:
            found = identity(app.repo)
            if found is not None:
                self.by_repo.setdefault(found, []).append(app)

    def __iter__(self) -> Iterator[Application]:
        return iter(self.apps)

    def __len__(self) -> int:
        return len(self.apps)


def apps_for_repo(repo_url: str, apps: Iterable[Application]) -> list[Application]:
    """The applications that deploy this repository (whatever their branch): the ones whose
    webhook secrets may have signed a delivery about it."""
    wanted = identity(repo_url)
    if wanted is None:
        return []
    if isinstance(apps, AppIndex):
        return list(apps.by_repo.get(wanted, ()))
    return [app for app in apps if identity(app.repo) == wanted]


@dataclass(slots=True)
class Match:
    """The applications an event deploys, and for each other application of the repository why not."""

    repo: str
    apps: list[Application] = field(default_factory=list)
    skipped: list[tuple[Application, str]] = field(default_factory=list)

    @property
    def reason(self) -> str:
        """Why nothing (or not everything) is deployed, for the 200 answer."""
        if not self.apps and not self.skipped:
            return f"no application deploys repository {self.repo}"
        return "; ".join(why for _, why in self.skipped)


def match_with_reasons(event: PushReceived | PullRequestReceived, apps: Iterable[Application]) -> Match:
    result = Match(repo=event.repo_full_name or event.repo_url)
    for app in apps_for_repo(event.repo_url, apps):
        why = _why_not_push(event, app) if isinstance(event, PushReceived) else _why_not_preview(event, app)
        if why is None:
            result.apps.append(app)
        else:
            result.skipped.append((app, why))
    return result


def match(event: PushReceived | PullRequestReceived, apps: Iterable[Application]) -> list[Application]:
    """The applications whose repository and branch match the event and that want to be deployed."""
    return match_with_reasons(event, apps).apps


def watched(paths: Sequence[str], patterns: Sequence[str]) -> bool:
    """Does any changed path fall under a watch path? A pattern is a glob (``*`` also crosses
    ``/``; ``**/`` may match nothing) or a directory (``src`` or ``src/`` covers ``src/a/b.py``)."""
    return any(_path_matches(path.lstrip("/"), pattern.strip().lstrip("/")) for path in paths for pattern in patterns)


def _why_not_push(event: PushReceived, app: Application) -> str | None:
    if event.branch != app.branch:
        return f"{app.name} deploys branch {app.branch!r}, not {event.branch!r}"
    if not app.auto_deploy:
        return f"auto-deploy is off for {app.name}"
    if app.watch_paths and event.changed_paths is not None and not watched(event.changed_paths, app.watch_paths):
        return f"no changed file is under the watch paths of {app.name}"
    return None


def _why_not_preview(event: PullRequestReceived, app: Application) -> str | None:
    if event.base_branch != app.branch:
        return f"{app.name} deploys branch {app.branch!r}; pull request #{event.number} targets {event.base_branch!r}"
    # A closed pull request always reaches its app, so a preview made before previews were
    # switched off is still torn down.
    if event.action != "closed" and not app.previews:
        return f"previews are off for {app.name}"
    return None


def _path_matches(path: str, pattern: str) -> bool:
    if not pattern:
        return False
    if pattern.endswith("/"):
        return path.startswith(pattern)
    if fnmatch.fnmatchcase(path, pattern) or path.startswith(pattern + "/"):
        return True
    return pattern.startswith("**/") and _path_matches(path, pattern[3:])


def _network(host: str, path: str) -> RepoIdentity | None:
    path = re.sub(r"/{2,}", "/", path).strip("/")
    if path.lower().endswith(".git"):
        path = path[:-4].rstrip("/")
    if not host or not path:
        return None
    return RepoIdentity(host.lower(), path.lower())


def _local(path: str) -> RepoIdentity | None:
    if not path:
        return None
    normal = posixpath.normpath(path)
    return RepoIdentity("", normal)
