"""The ``zpanel`` command. Every failure ends as one line on stderr and a non-zero exit:
bad input (exit 2), an API or stack problem (exit 1)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import typer
from typer._click import exceptions as click  # typer 0.29 vendors click: its exceptions live here
from typer.core import TyperGroup

from zpanel.cli import apps, deployments, dlq, env, servers, stack
from zpanel.cli.errors import CliError


def _one_line(message: str) -> str:
    return " ".join(message.split())


class OneLineErrors(TyperGroup):
    """Runs the command tree without click's multi-line usage boxes: errors become one line."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            rv = super().main(
                args=args, prog_name=prog_name or "zpanel", complete_var=complete_var, standalone_mode=False, **extra
            )
        except click.NoArgsIsHelpError as exc:  # `zpanel` or `zpanel app` alone: show what there is
            assert exc.ctx is not None
            print(exc.ctx.get_help())
            sys.exit(2)
        except click.UsageError as exc:
            where = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx is not None else ""
            print(f"zpanel: error: {_one_line(exc.format_message())}{where}", file=sys.stderr)
            sys.exit(2)
        except click.ClickException as exc:
            print(f"zpanel: error: {_one_line(exc.format_message())}", file=sys.stderr)
            sys.exit(exc.exit_code)
        except CliError as exc:
            print(f"zpanel: {_one_line(str(exc))}", file=sys.stderr)
            sys.exit(exc.code)
        except typer.Abort:
            print("zpanel: aborted", file=sys.stderr)
            sys.exit(130)
        sys.exit(rv if isinstance(rv, int) else 0)


app = typer.Typer(
    cls=OneLineErrors,
    name="zpanel",
    help="Zpanel: push-to-deploy on your own servers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

app.command("up")(stack.up)
app.command("down")(stack.down)
app.command("status")(stack.status)
app.add_typer(servers.app, name="server")
app.add_typer(apps.app, name="app")
app.add_typer(env.app, name="env")
app.command("deploy")(deployments.deploy)
app.command("rollback")(deployments.rollback)
app.command("cancel")(deployments.cancel)
app.command("deployments")(deployments.deployments)
app.command("logs")(deployments.logs)
app.add_typer(dlq.app, name="dlq")

if __name__ == "__main__":
    app()
