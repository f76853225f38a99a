"""``zpanel app create|list|show|delete``."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer

from zpanel.cli import output
from zpanel.cli.client import Api, seg
from zpanel.cli.errors import UsageProblem
from zpanel.cli.options import Json

app = typer.Typer(help="Applications: register, inspect, remove.", no_args_is_help=True)


class Build(StrEnum):
    auto = "auto"
    dockerfile = "dockerfile"
    static = "static"
    compose = "compose"


class Strategy(StrEnum):
    zero_downtime = "zero-downtime"
    blue_green = "blue-green"
    rolling = "rolling"
    recreate = "recreate"


def valid_name(value: str, what: str) -> str:
    from zpanel.models import check_name  # pydantic is slow to import; most commands never need it

    try:
        return check_name(value, what)
    except ValueError as exc:
        raise UsageProblem(str(exc)) from None


def create_body(
    name: str,
    *,
    repo: str,
    branch: str,
    server: str,
    domains: list[str],
    port: int | None,
    build: str | None,
    health_path: str | None,
    strategy: str | None,
    replicas: int | None,
    webhook_secret: str | None,
    notify: list[str],
    previews: bool,
    schedule: str | None,
    pre_deploy: str | None,
    post_deploy: str | None,
    memory: str | None = None,
    cpus: float | None = None,
    volumes: list[str] | None = None,
    drain_timeout: float | None = None,
) -> dict[str, Any]:
    """The POST /api/v1/applications body: what was given, the API's defaults for the rest."""
    body: dict[str, Any] = {
        "name": valid_name(name, "application name"),
        "repo": repo,
        "branch": branch,
        "server": valid_name(server, "server name"),
        "domains": domains,
    }
    optional = {
        "port": port,
        "build": build,
        "health_path": health_path,
        "strategy": strategy,
        "replicas": replicas,
        "webhook_secret": webhook_secret,
        "schedule": schedule,
        "pre_deploy": pre_deploy,
        "post_deploy": post_deploy,
        "memory": memory,
        "cpus": cpus,
        "drain_timeout": drain_timeout,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    if volumes:
        body["volumes"] = volumes
    if notify:
        body["notify"] = notify
    if previews:
        body["previews"] = True
    return body


@app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="Application name: lowercase letters, digits, '-'.")],
    repo: Annotated[str, typer.Option("--repo", help="Git URL (https, ssh or a local path).")],
    server: Annotated[str, typer.Option("--server", help="Target server name (see `zpanel server list`).")],
    branch: Annotated[str, typer.Option("--branch", help="Branch deployed on push.")] = "main",
    domain: Annotated[list[str] | None, typer.Option("--domain", help="Domain routed to the app (repeatable).")] = None,
    port: Annotated[int | None, typer.Option("--port", min=1, max=65535, help="Port the app listens on.")] = None,
    build: Annotated[Build | None, typer.Option("--build", help="How to build.")] = None,
    health_path: Annotated[str | None, typer.Option("--health-path", help="HTTP path probed before traffic.")] = None,
    strategy: Annotated[Strategy | None, typer.Option("--strategy", help="How new versions replace old.")] = None,
    replicas: Annotated[int | None, typer.Option("--replicas", min=1, max=100)] = None,
    webhook_secret: Annotated[str | None, typer.Option("--webhook-secret", help="Else one is generated.")] = None,
    notify: Annotated[
        list[str] | None, typer.Option("--notify", help="Apprise URL or https endpoint (repeatable).")
    ] = None,
    previews: Annotated[bool, typer.Option("--previews", help="Deploy pull-request previews.")] = False,
    schedule: Annotated[str | None, typer.Option("--schedule", help="Cron expression for scheduled redeploys.")] = None,
    pre_deploy: Annotated[str | None, typer.Option("--pre-deploy", help="Command run before the switch.")] = None,
    post_deploy: Annotated[str | None, typer.Option("--post-deploy", help="Command run after the switch.")] = None,
    memory: Annotated[str | None, typer.Option("--memory", help="Memory limit per container (512m, 2g).")] = None,
    cpus: Annotated[float | None, typer.Option("--cpus", min=0.01, help="CPU limit per container (0.5, 2).")] = None,
    volume: Annotated[
        list[str] | None,
        typer.Option("--volume", help="Named volume NAME:/path[:ro], kept across deploys (repeatable)."),
    ] = None,
    drain_timeout: Annotated[
        float | None,
        typer.Option("--drain-timeout", min=0, max=3600, help="Seconds requests in flight may take (30)."),
    ] = None,
    json_: Json = False,
) -> None:
    """Register an application; prints its webhook URLs and secret."""
    body = create_body(
        name,
        repo=repo,
        branch=branch,
        server=server,
        domains=domain or [],
        port=port,
        build=build.value if build else None,
        health_path=health_path,
        strategy=strategy.value if strategy else None,
        replicas=replicas,
        webhook_secret=webhook_secret,
        notify=notify or [],
        previews=previews,
        schedule=schedule,
        pre_deploy=pre_deploy,
        post_deploy=post_deploy,
        memory=memory,
        cpus=cpus,
        volumes=volume or [],
        drain_timeout=drain_timeout,
    )
    with Api() as api:
        created = api.post("/api/v1/applications", body)
    if json_:
        output.emit_json(output.app_shape(created, with_secret=True))
        return
    output.console().print(
        f"Created application [bold]{created.get('name')}[/bold]. Point your Git provider's webhook at:"
    )
    output.app_detail(created, with_secret=True)


@app.command("list")
def list_(json_: Json = False) -> None:
    """List applications."""
    with Api() as api:
        apps = api.get("/api/v1/applications")
    if json_:
        output.emit_json([output.app_shape(a) for a in apps])
    else:
        output.apps_table(apps)


@app.command("show")
def show(name: Annotated[str, typer.Argument(help="Application name or id.")], json_: Json = False) -> None:
    """Show an application, its webhook URLs and its current deployment."""
    with Api() as api:
        found = api.get(f"/api/v1/applications/{seg(name)}")
    if json_:
        output.emit_json(output.app_shape(found))
    else:
        output.app_detail(found)


@app.command("delete")
def delete(name: Annotated[str, typer.Argument(help="Application name or id.")], json_: Json = False) -> None:
    """Remove an application."""
    with Api() as api:
        api.delete(f"/api/v1/applications/{seg(name)}")
    if json_:
        output.emit_json({"deleted": name})
    else:
        output.console().print(f"Deleted application {name}.")
