"""``zpanel env set|list|unset``: an application's environment variables."""

from __future__ import annotations

import re
import sys
from typing import Annotated

import typer

from zpanel.cli import output
from zpanel.cli.client import Api, seg
from zpanel.cli.errors import UsageProblem
from zpanel.cli.options import Json

app = typer.Typer(help="Environment variables of an application.", no_args_is_help=True)

KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def parse_pair(text: str, stdin_value: str | None = None) -> tuple[str, str]:
    """``KEY=VALUE``; ``KEY=-`` takes the value from stdin so a secret stays out of the process list."""
    key, sep, value = text.partition("=")
    if not sep:
        raise UsageProblem(f"expected KEY=VALUE, got {text!r}")
    if not KEY_RE.match(key):
        raise UsageProblem(f"environment variable name {key!r} is not valid: use letters, digits and '_'")
    if value == "-" and stdin_value is not None:
        value = stdin_value
    return key, value


@app.command("set")
def set_(
    name: Annotated[str, typer.Argument(help="Application name or id.")],
    pairs: Annotated[list[str], typer.Argument(help="KEY=VALUE (KEY=- reads the value from stdin).")],
    build_time: Annotated[bool, typer.Option("--build-time", help="Also pass it to the build.")] = False,
    secret: Annotated[bool, typer.Option("--secret", help="Store sealed; never shown again.")] = False,
    json_: Json = False,
) -> None:
    """Set one or more variables (applied at the next deployment)."""
    stdin_value = sys.stdin.read().rstrip("\n") if any(p.endswith("=-") for p in pairs) else None
    parsed = [parse_pair(p, stdin_value) for p in pairs]
    answers = []
    with Api() as api:
        for key, value in parsed:
            answers.append(
                api.put(
                    f"/api/v1/applications/{seg(name)}/env/{seg(key)}",
                    {"value": value, "secret": secret, "build_time": build_time},
                )
            )
    if json_:
        output.emit_json(answers)
        return
    for a in answers:
        flags = ", ".join(f for f, on in (("secret", a.get("secret")), ("build-time", a.get("build_time"))) if on)
        output.console().print(f"Set {a.get('key')}" + (f" ({flags})" if flags else "") + f" on {name}.")


@app.command("list")
def list_(name: Annotated[str, typer.Argument(help="Application name or id.")], json_: Json = False) -> None:
    """List variables (secret values show as ********)."""
    with Api() as api:
        items = api.get(f"/api/v1/applications/{seg(name)}/env")
    if json_:
        output.emit_json(items)
    else:
        output.table(
            None,
            ["KEY", "VALUE", "SECRET", "BUILD-TIME"],
            [[i.get("key"), i.get("value"), i.get("secret"), i.get("build_time")] for i in items],
        )


@app.command("unset")
def unset(
    name: Annotated[str, typer.Argument(help="Application name or id.")],
    keys: Annotated[list[str], typer.Argument(help="Variable names.")],
    json_: Json = False,
) -> None:
    """Remove variables."""
    with Api() as api:
        for key in keys:
            api.delete(f"/api/v1/applications/{seg(name)}/env/{seg(key)}")
    if json_:
        output.emit_json({"unset": keys})
    else:
        output.console().print(f"Removed {', '.join(keys)} from {name}.")
