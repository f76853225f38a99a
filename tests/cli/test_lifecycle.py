"""The supervisor for real, in the background as ``up --detach`` starts it, with small dummy
children: restarts with backoff (counted, logged), readiness before return, ``down`` stopping
everything it started and nothing else."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import nats
import pytest

from tests.cli.conftest import run_cli
from tests.cli.dummies import CRASH_N_TIMES, PING_RESPONDER, SLEEPER, SLOW_HTTP, plan, py, service, stack, until
from tests.harness.nats import NatsServer, free_port
from zpanel.cli import lifecycle, procs
from zpanel.cli.errors import CliError
from zpanel.cli.plan import Plan, Probe, ProcSpec


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    h = tmp_path / "zhome"
    monkeypatch.setenv("ZPANEL_HOME", str(h))
    yield h
    lifecycle.down(h)  # whatever a failed test left running


def start(p: Plan) -> subprocess.Popen[bytes]:
    sup = lifecycle.start_detached(p)
    until("the supervisor's stack.json", lambda: stack(p.home).get("supervisor_pid") == sup.pid)
    return sup


def alive(pid: int) -> bool:
    return procs.start_ticks(pid) is not None and not procs.is_zombie(pid)


def test_a_dying_process_is_restarted_with_backoff_and_counted(home: Path) -> None:
    counter = home.parent / "crashes"
    p = plan(home, [py("crasher", CRASH_N_TIMES, str(counter), "3"), py("steady", SLEEPER)])
    start(p)
    until("the fourth run", lambda: counter.exists() and counter.read_text() == "4")
    r = run_cli("status", "--json")
    assert r.code == 0, r.stderr
    doc = r.json()
    crasher, steady = doc["services"]
    assert doc == {
        "api_url": "http://127.0.0.1:1",
        "dashboard_url": "http://127.0.0.1:1/",
        "nats_url": "",
        "proxy_http_port": 8081,
        "token": "zpt_t",
        "services": [
            {"name": "crasher", "pid": crasher["pid"], "state": "running", "restarts": 3},
            {"name": "steady", "pid": steady["pid"], "state": "running", "restarts": 0},
        ],
    }
    log = (home / "logs" / "supervisor.log").read_text()
    delays = [line.split(" in ")[1] for line in log.splitlines() if "crasher: exited with code 3" in line]
    assert delays == ["0.05s", "0.10s", "0.20s"]
    assert "--- " in (home / "logs" / "crasher.log").read_text()  # the restart is noted in its own log too


def test_a_missing_module_is_a_process_that_fails_and_is_retried(home: Path) -> None:
    p = plan(home, [ProcSpec("ghost", [py("x", "").argv[0], "-m", "zpanel_no_such_service"])])
    start(p)
    until("two restarts", lambda: service(home, "ghost").get("restarts", 0) >= 2)
    assert service(home, "ghost")["exit_code"] == 1
    assert "No module named zpanel_no_such_service" in (home / "logs" / "ghost.log").read_text()


def test_kill_9_of_a_child_is_restarted(home: Path) -> None:
    p = plan(home, [py("victim", SLEEPER)])
    start(p)
    first = until("a pid", lambda: service(home, "victim").get("pid"))
    os.kill(first, signal.SIGKILL)
    second = until("a new pid", lambda: (s := service(home, "victim")).get("pid") not in (None, first) and s)
    assert (second["restarts"], second["exit_code"]) == (1, -9)
    assert not alive(first)


def test_detach_returns_only_once_every_probe_answers(home: Path, nats_server: NatsServer) -> None:
    port = free_port()
    subject = f"zpanel.ping.dummy-{port}"
    p = plan(
        home,
        [
            py("web", SLOW_HTTP, str(port), probes=[Probe("http", f"http://127.0.0.1:{port}/")]),
            py("pinger", PING_RESPONDER, nats_server.url, subject, probes=[Probe("ping", subject)]),
        ],
        nats_url=nats_server.url,
    )
    sup = lifecycle.start_detached(p)
    doc = lifecycle.wait_ready(p, sup, timeout=30)
    # Right at return, both answer: the HTTP server and the NATS ping.
    assert httpx.get(f"http://127.0.0.1:{port}/").status_code == 200

    async def ping() -> bytes:
        nc = await nats.connect(nats_server.url)
        try:
            return (await nc.request(subject, b"", timeout=2)).data
        finally:
            await nc.close()

    assert asyncio.run(ping()) == b"pong"
    assert [(s["name"], s["state"]) for s in doc["services"]] == [("web", "running"), ("pinger", "running")]


def test_a_gated_process_is_ready_before_the_next_starts(home: Path) -> None:
    port = free_port()
    seen = home.parent / "seen"
    probe_then_sleep = (
        "import socket, sys, time\n"
        "s = socket.socket(); r = s.connect_ex(('127.0.0.1', int(sys.argv[1])))\n"
        "open(sys.argv[2], 'w').write('open' if r == 0 else 'closed'); time.sleep(600)\n"
    )
    p = plan(
        home,
        [
            py("first", SLOW_HTTP, str(port), probes=[Probe("tcp", str(port))], gate=True),
            py("second", probe_then_sleep, str(port), str(seen)),
        ],
    )
    start(p)
    until("the second process", lambda: seen.exists() and seen.read_text())
    assert seen.read_text() == "open"


def test_readiness_timeout_names_what_is_not_ready(home: Path) -> None:
    p = plan(home, [py("never", SLEEPER, probes=[Probe("tcp", str(free_port()))])])
    sup = start(p)
    with pytest.raises(CliError) as exc:
        lifecycle.wait_ready(p, sup, timeout=0.3)
    assert str(exc.value) == (
        f"not ready after 0s: never (starting, 0 restarts; see {home / 'logs' / 'never.log'}); "
        "it keeps trying, `zpanel down` stops it"
    )


def test_down_stops_everything_it_started_and_nothing_else(home: Path) -> None:
    bystander = subprocess.Popen(["sleep", "600"])
    grandchild_file = home.parent / "grandchild.pid"
    try:
        spawner = "import subprocess, time, sys; p = subprocess.Popen(['sleep', '600']); open(sys.argv[1], 'w').write(str(p.pid)); time.sleep(600)"
        p = plan(home, [py("a", SLEEPER), py("b", spawner, str(grandchild_file))])
        sup = start(p)
        pids = until(
            "both pids",
            lambda: (
                [s["pid"] for s in stack(home)["services"] if s["pid"]]
                if len([s for s in stack(home)["services"] if s["pid"]]) == 2
                else None
            ),
        )
        grandchild = int(until("the grandchild", lambda: grandchild_file.exists() and grandchild_file.read_text()))
        r = run_cli("down", "--json")
        assert (r.code, r.json()) == (0, {"stopped": ["a", "b", "supervisor"]})
        assert [alive(pid) for pid in [*pids, grandchild, sup.pid]] == [False, False, False, False]
        assert bystander.poll() is None
        after = stack(home)
        assert after["supervisor_pid"] is None
        assert [(s["name"], s["pid"], s["state"]) for s in after["services"]] == [
            ("a", None, "stopped"),
            ("b", None, "stopped"),
        ]
        status = run_cli("status", "--json")
        assert status.code == 1
        assert status.stderr == f"zpanel: the stack under {home} is not running: `zpanel up` starts it\n"
    finally:
        bystander.kill()
        bystander.wait()


def test_down_after_the_supervisor_was_killed_stops_its_orphans(home: Path) -> None:
    p = plan(home, [py("orphan", SLEEPER)])
    sup = start(p)
    pid = until("a pid", lambda: service(home, "orphan").get("pid"))
    sup.kill()
    sup.wait()
    assert alive(pid)
    assert lifecycle.down(home) == ["orphan"]
    assert not alive(pid)


def test_down_never_signals_a_pid_that_now_names_another_process(home: Path) -> None:
    from zpanel.cli import stackfile

    bystander = subprocess.Popen(["sleep", "600"])
    try:
        ticks = procs.start_ticks(bystander.pid)
        assert ticks is not None
        stackfile.write(
            home,
            {
                "services": [
                    {"name": "old", "pid": bystander.pid, "ticks": ticks - 1, "state": "running", "restarts": 0}
                ],
                "supervisor_pid": bystander.pid,
                "supervisor_ticks": ticks + 1,
            },
        )
        assert lifecycle.down(home) == []
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


def test_a_supervisor_whose_home_is_deleted_stops_its_children(home: Path) -> None:
    import shutil

    p = plan(home, [py("orphaned", SLEEPER)])
    sup = start(p)
    pid = until("a pid", lambda: service(home, "orphaned").get("pid"))
    shutil.rmtree(home)
    assert sup.wait(timeout=20) == 0
    assert not alive(pid)
    assert not home.exists()
