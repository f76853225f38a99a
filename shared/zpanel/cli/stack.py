"""``zpanel up|down|status``: the embedded stack under ``$ZPANEL_HOME``."""

from __future__ import annotations

import asyncio
import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from zpanel.cli import dockerengine, embedded, example, lifecycle, output, stackfile
from zpanel.cli.client import Api, Target
from zpanel.cli.errors import CliError
from zpanel.cli.options import Json
from zpanel.cli.plan import Plan


class Proxy(StrEnum):
    traefik = "traefik"
    caddy = "caddy"


def say(message: str) -> None:
    output.err_console().print(f"[bold]•[/bold] {message}")


def _after_ready(plan: Plan, *, proxy: str, no_example: bool, base_image: str, quiet: bool) -> str | None:
    """Register the admin token, then (unless --no-example) deploy the example; its URL."""
    from zpanel.cli import tokens  # the bus (and its telemetry) is slow to import: only `up` needs it
    from zpanel.errors import ZpanelError

    try:
        asyncio.run(tokens.register(plan.info.token, plan.info.nats_url, plan.home))
    except ZpanelError as exc:
        raise CliError(f"cannot register the admin token: {exc}") from exc
    if no_example:
        return None
    say("deploying the example app (examples/hello) to the server `local`")
    repo = example.make_repo(plan.home, base_image)
    with Api(Target(plan.info.api_url, plan.info.token), timeout=60) as api:
        url = example.install(api, repo, proxy, quiet=quiet)
    return url or example.app_url(plan.info.proxy_http_port)


def _https() -> str:
    email = os.environ.get("ZPANEL_ACME_EMAIL", "").strip()
    if email:
        return f"Let's Encrypt certificates for public domains (account {email})"
    return "self-signed certificates; set ZPANEL_ACME_EMAIL before `zpanel up` for Let's Encrypt"


def _summary(plan: Plan, url: str | None) -> None:
    c = output.console()
    c.print("\n[bold green]Zpanel is up.[/bold green]")
    pairs: list[tuple[str, Any]] = []
    if url:
        pairs.append(("app", url))
        pairs.append(("its repository", f"{plan.home / 'repos' / 'hello'} (commit and `git push` to deploy)"))
    pairs += [
        ("dashboard", plan.info.dashboard_url),
        ("API", plan.info.api_url),
        ("admin token", plan.info.token),
        ("logs", str(plan.logs)),
        ("HTTPS", _https()),
    ]
    output.kv(pairs)


def up(
    detach: Annotated[bool, typer.Option("--detach", "-d", help="Run in the background; return once ready.")] = False,
    proxy: Annotated[Proxy, typer.Option("--proxy", help="Reverse proxy for the `local` server.")] = Proxy.traefik,
    no_example: Annotated[bool, typer.Option("--no-example", help="Do not deploy the example app.")] = False,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait for readiness.")] = 120.0,
    json_: Json = False,
) -> None:
    """Start NATS, the six services and the proxy; deploy the example app."""
    home = stackfile.home()
    previous = stackfile.read(home)
    if stackfile.supervisor_alive(previous):
        assert previous is not None
        say(
            f"the stack under {home} is already running (supervisor pid {previous['supervisor_pid']}); `zpanel down` stops it"
        )
        status(json_=json_)
        return
    dockerengine.ensure(say, home / "logs")
    base_image = example.static_base_image(say)
    from zpanel.cli.tokens import existing_or_new

    plan = embedded.build_plan(
        home, token=existing_or_new(previous, home), proxy=proxy.value, base_image_static=base_image
    )
    if detach:
        say(f"starting the stack in the background under {home}")
        supervisor = lifecycle.start_detached(plan)
        doc = lifecycle.wait_ready(plan, supervisor, timeout)
        url = _after_ready(plan, proxy=proxy.value, no_example=no_example, base_image=base_image, quiet=json_)
        if json_:
            output.emit_json(stackfile.status_shape(doc))
        else:
            _summary(plan, url)
            output.console().print("Stop it with `zpanel down`.")
        return
    _foreground(plan, proxy=proxy.value, no_example=no_example, base_image=base_image, timeout=timeout, json_=json_)


def _foreground(plan: Plan, *, proxy: str, no_example: bool, base_image: str, timeout: float, json_: bool) -> None:
    say(f"starting the stack under {plan.home} (Ctrl-C stops it)")
    from zpanel.cli.supervisor import Supervisor

    supervisor = Supervisor(plan, echo=True)

    async def on_ready() -> None:
        try:
            url = await asyncio.to_thread(
                _after_ready, plan, proxy=proxy, no_example=no_example, base_image=base_image, quiet=json_
            )
        except CliError as exc:  # the stack stays up: the user can look at what went wrong
            output.err_console().print(f"zpanel: {exc}", markup=False)
            return
        if json_:
            output.emit_json(stackfile.status_shape(supervisor.document()))
        else:
            _summary(plan, url)
            output.console().print("Ctrl-C (or `zpanel down`) stops it.")

    async def main() -> None:
        waiting = asyncio.create_task(_warn_if_slow(supervisor, timeout))
        try:
            await supervisor.run(on_ready)
        finally:
            waiting.cancel()

    asyncio.run(main())


async def _warn_if_slow(supervisor: Any, timeout: float) -> None:
    await asyncio.sleep(timeout)
    slow = [c.spec.name for c in supervisor.children if c.state != "running"]
    if slow:
        say(f"not ready after {timeout:.0f}s: {', '.join(slow)} (see {supervisor.plan.logs}); still trying")


def down(json_: Json = False) -> None:
    """Stop everything `zpanel up` started (and nothing else)."""
    home = stackfile.home()
    stopped = lifecycle.down(home)
    if json_:
        output.emit_json({"stopped": stopped})
    elif stopped:
        output.console().print(f"Stopped {', '.join(stopped)}.")
    else:
        output.console().print(f"Nothing running under {home}.")


def status(json_: Json = False) -> None:
    """The local stack: URLs, and each process's state, pid and restarts."""
    home: Path = stackfile.home()
    doc = stackfile.read(home)
    if doc is None:
        raise CliError(f"no stack under {home}: start one with `zpanel up`")
    alive = stackfile.supervisor_alive(doc)
    if not alive:
        for s in doc.get("services", []):
            s.update(pid=None, state="stopped")
    if json_:
        output.emit_json(stackfile.status_shape(doc))
    else:
        output.status_table(doc)
    if not alive:
        raise CliError(f"the stack under {home} is not running: `zpanel up` starts it")
