"""``zpanel dlq list|replay``: dead-lettered work."""

from __future__ import annotations

from typing import Annotated

import typer

from zpanel.cli import output
from zpanel.cli.client import Api, seg
from zpanel.cli.options import Json

app = typer.Typer(help="Dead-lettered work: inspect and replay.", no_args_is_help=True)


@app.command("list")
def list_(json_: Json = False) -> None:
    """List dead letters with the stage and reason they failed."""
    with Api() as api:
        items = api.get("/api/v1/dlq")
    if json_:
        output.emit_json(items)
        return
    output.table(
        None,
        ["ID", "STAGE", "DEPLOYMENT", "TRIES", "FAILED AT", "REASON"],
        [
            [
                i.get("id"),
                i.get("stage"),
                i.get("deployment_id"),
                i.get("num_delivered"),
                i.get("failed_at"),
                i.get("reason"),
            ]
            for i in items
        ],
    )


@app.command("replay")
def replay(
    id_: Annotated[str, typer.Argument(metavar="ID", help="Dead letter id (from `zpanel dlq list`).")],
    json_: Json = False,
) -> None:
    """Publish a dead letter again to the stage it failed in."""
    with Api() as api:
        answer = api.post(f"/api/v1/dlq/{seg(id_)}/replay")
    if json_:
        output.emit_json(answer)
    else:
        output.console().print(f"Replayed dead letter {answer.get('id')} as {answer.get('replayed_as')}.")
