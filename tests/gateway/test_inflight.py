"""The registry of deployments a 202 promised: per-server counts, discard, expiry, the size bound."""

from __future__ import annotations

from zpanel.models import Deployment
from zpanel_webhook_gateway.inflight import InFlight


def _never() -> Deployment:
    raise AssertionError("the draft is built only when asked for")


def test_counts_per_server_and_forgets_on_discard() -> None:
    now = [0.0]
    reg = InFlight(ttl=60, clock=lambda: now[0])
    reg.add("d1", "local", _never)
    reg.add("d2", "local", _never)
    reg.add("d3", "edge", _never)
    reg.add("d1", "local", _never)  # a redelivery renews, it does not count twice
    assert (reg.on_server("local"), reg.on_server("edge"), len(reg)) == (2, 1, 3)
    reg.discard("d2")
    reg.discard("unknown")
    assert (reg.on_server("local"), len(reg)) == (1, 2)


def test_promises_expire_after_ttl() -> None:
    now = [0.0]
    reg = InFlight(ttl=60, clock=lambda: now[0])
    reg.add("old", "local", _never)
    now[0] = 30.0
    reg.add("new", "local", _never)
    now[0] = 61.0
    assert (reg.on_server("local"), reg.get("old")) == (1, None)
    now[0] = 91.0
    assert (reg.on_server("local"), len(reg)) == (0, 0)


def test_the_oldest_go_first_past_the_bound() -> None:
    reg = InFlight(max_entries=2)
    for dep_id in ("a", "b", "c"):
        reg.add(dep_id, "local", _never)
    assert (len(reg), reg.on_server("local")) == (2, 2)
    assert reg.get("a") is None
