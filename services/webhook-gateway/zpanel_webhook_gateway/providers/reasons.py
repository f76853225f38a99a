"""Why a change request or a ref deploys nothing: the :class:`Ignored` reasons several providers
give, worded once (they are part of the 200 answer). Branch deletions and skip markers are in
``refs``, next to the rules they come from.
"""

from __future__ import annotations

from zpanel_webhook_gateway.providers.base import Ignored


def tag(name: str) -> Ignored:
    return Ignored("tag", f"{name!r} is a tag: tags are not deployed")


def unsupported_action(label: str, action: str) -> Ignored:
    """``label`` names the change request the provider's way: ``pull request #3``, ``merge request !3``."""
    return Ignored("unsupported_action", f"{label} {action}: previews only follow new commits")


def fork(label: str, whose: str = "repository") -> Ignored:
    return Ignored("fork", f"{label} comes from a fork: previews only build this {whose}'s branches")
