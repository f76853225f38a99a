"""``zpanel deploy|rollback|cancel|deployments|logs``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from zpanel.cli import output
from zpanel.cli.client import Api, seg
from zpanel.cli.errors import CliError
from zpanel.cli.follow import failure_reason, follow
from zpanel.cli.options import Json

Follow = Annotated[bool, typer.Option("--follow", "-f", help="Stream the log until the deployment ends.")]


def _started(api: Api, answer: dict[str, Any], *, follow_it: bool, json_: bool, verb: str) -> None:
    dep_id = str(answer.get("deployment_id"))
    if not follow_it:
        if json_:
            output.emit_json(output.deploy_shape(answer))
        else:
            output.console().print(
                f"{verb} [bold]{dep_id}[/bold] ({answer.get('status')}). Follow it: zpanel logs {dep_id} --follow"
            )
        return
    if not json_:
        output.console().print(f"{verb} [bold]{dep_id}[/bold]")
    final = follow(api, dep_id, quiet=json_)
    if json_:
        output.emit_json({"deployment_id": dep_id, "status": final.get("status")})
    else:
        output.deployment_detail(final)
        if final.get("url") and final.get("status") == "succeeded":
            output.console().print(f"Live at {final['url']}")
    if final.get("status") != "succeeded":
        raise CliError(failure_reason(final))


def deploy(
    name: Annotated[str, typer.Argument(help="Application name or id.")],
    commit: Annotated[str | None, typer.Option("--commit", help="Commit to deploy (default: the branch head).")] = None,
    follow_: Follow = False,
    json_: Json = False,
) -> None:
    """Deploy an application now; with --follow, exit non-zero unless it succeeds."""
    body = {"commit": commit} if commit else {}
    with Api() as api:
        answer = api.post(f"/api/v1/applications/{seg(name)}/deploy", body)
        _started(api, answer, follow_it=follow_, json_=json_, verb="Deploying")


def rollback(
    name: Annotated[str, typer.Argument(help="Application name or id.")],
    to: Annotated[
        str | None, typer.Option("--to", help="Deployment whose image to run (default: the previous good one).")
    ] = None,
    follow_: Follow = False,
    json_: Json = False,
) -> None:
    """Redeploy a previous successful deployment's image, without a rebuild."""
    body = {"deployment_id": to} if to else {}
    with Api() as api:
        answer = api.post(f"/api/v1/applications/{seg(name)}/redeploy", body)
        _started(api, answer, follow_it=follow_, json_=json_, verb="Rolling back with")


def cancel(
    deployment_id: Annotated[str, typer.Argument(metavar="DEPLOYMENT_ID")],
    json_: Json = False,
) -> None:
    """Cancel a queued or running deployment."""
    with Api() as api:
        answer = api.post(f"/api/v1/deployments/{seg(deployment_id)}/cancel")
    if json_:
        output.emit_json(output.deploy_shape(answer))
    else:
        output.console().print(f"Cancelling {answer.get('deployment_id')} ({answer.get('status')}).")


def deployments(
    name: Annotated[str, typer.Argument(help="Application name or id.")],
    status: Annotated[str | None, typer.Option("--status", help="Only this status.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 20,
    json_: Json = False,
) -> None:
    """An application's deployments, newest first, with status and stage timings."""
    with Api() as api:
        items = api.get(f"/api/v1/applications/{seg(name)}/deployments", status=status, limit=limit)
    if json_:
        output.emit_json([output.deployment_shape(d) for d in items])
    else:
        output.deployments_table(items)


def logs(
    deployment_id: Annotated[str, typer.Argument(metavar="DEPLOYMENT_ID")],
    follow_: Follow = False,
    json_: Json = False,
) -> None:
    """A deployment's log; with --follow, live until it ends (non-zero exit unless it succeeded)."""
    with Api() as api:
        if follow_:
            final = follow(api, deployment_id, raw_json=json_)
            if json_:
                output.emit_line({"status": final.get("status")})
            if final.get("status") != "succeeded":
                raise CliError(failure_reason(final))
            return
        answer = api.get(f"/api/v1/deployments/{seg(deployment_id)}/logs")
    if json_:
        output.emit_json(answer)
        return
    c = output.console()
    for line in answer.get("lines") or []:
        c.print(f"{str(line.get('ts', ''))[11:23]} {line.get('stage', ''):<7} {line.get('line', '')}", markup=False)
