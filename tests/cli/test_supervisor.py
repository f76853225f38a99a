"""The supervisor in the foreground (as ``zpanel up`` runs it): the ready hook, SIGTERM stopping
every child, stack.json kept current; and the plan's JSON round trip for ``--detach``."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from tests.cli.dummies import SLEEPER, plan, py, stack
from zpanel.cli import procs
from zpanel.cli.plan import Plan, Probe
from zpanel.cli.supervisor import Supervisor


async def test_sigterm_stops_every_child_and_records_it(tmp_path: Path) -> None:
    p = plan(tmp_path, [py("a", SLEEPER), py("b", SLEEPER)])
    sup = Supervisor(p)
    seen: dict[str, object] = {}

    async def on_ready() -> None:
        doc = stack(tmp_path)
        seen["while_ready"] = [(s["name"], s["state"], s["restarts"]) for s in doc["services"]]
        seen["pids"] = [s["pid"] for s in doc["services"]]
        seen["supervisor_pid"] = doc["supervisor_pid"]
        os.kill(os.getpid(), signal.SIGTERM)  # what Ctrl-C or `zpanel down` sends

    await sup.run(on_ready)
    assert seen["while_ready"] == [("a", "running", 0), ("b", "running", 0)]
    assert seen["supervisor_pid"] == os.getpid()
    pids = seen["pids"]
    assert isinstance(pids, list)
    assert [procs.start_ticks(pid) is None or procs.is_zombie(pid) for pid in pids] == [True, True]
    after = stack(tmp_path)
    assert (after["supervisor_pid"], [(s["name"], s["pid"], s["state"]) for s in after["services"]]) == (
        None,
        [("a", None, "stopped"), ("b", None, "stopped")],
    )
    assert oct((tmp_path / "stack.json").stat().st_mode & 0o777) == "0o600"


def test_plan_round_trips_through_its_file(tmp_path: Path) -> None:
    p = plan(tmp_path, [py("a", SLEEPER, probes=[Probe("tcp", "1234")], gate=True)], nats_url="nats://127.0.0.1:1")
    path = p.save()
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert Plan.from_json(path.read_text()) == p
