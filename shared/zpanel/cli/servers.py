"""``zpanel server add|list|check|remove``: target servers reached over SSH."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from zpanel.cli import hostkeys, output
from zpanel.cli.apps import valid_name
from zpanel.cli.client import Api, seg
from zpanel.cli.errors import CliError, UsageProblem
from zpanel.cli.options import Json

app = typer.Typer(help="Target servers: register, list, check.", no_args_is_help=True)


class Proxy(StrEnum):
    traefik = "traefik"
    caddy = "caddy"


def read_key(path: Path) -> str:
    try:
        text = path.read_text()
    except OSError as exc:
        raise UsageProblem(f"cannot read --key {path}: {exc.strerror or exc}") from None
    if "PRIVATE KEY" not in text:
        raise UsageProblem(f"--key {path} is not a private key (PEM or OpenSSH format)")
    return text


def pinned_host_key(host: str, port: int, known_hosts: Path | None, accept: bool) -> str:
    if known_hosts is not None:
        return hostkeys.read_known_hosts(known_hosts, host, port)
    scanned = hostkeys.scan(host, port)
    prints = hostkeys.fingerprints(scanned)
    err = output.err_console()
    err.print(f"The host key of {hostkeys.host_pattern(host, port)} is not pinned yet. It offers:")
    for fp in prints:
        err.print(f"  {fp}")
    if accept:
        err.print("Pinning it (--accept-host-key).")
        return scanned
    if not sys.stdin.isatty():
        raise UsageProblem(
            "host key not pinned: pass --known-hosts FILE, or --accept-host-key after checking the fingerprint"
        )
    if not typer.confirm("Pin this host key?", default=False, err=True):
        raise CliError("not added: the host key was not accepted")
    return scanned


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="Server name: lowercase letters, digits, '-'.")],
    host: Annotated[str, typer.Option("--host", help="Host name or address.")],
    key: Annotated[Path, typer.Option("--key", help="Private key file for SSH.")],
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 22,
    user: Annotated[str, typer.Option("--user")] = "root",
    known_hosts: Annotated[
        Path | None, typer.Option("--known-hosts", help="known_hosts file holding the host's key.")
    ] = None,
    accept_host_key: Annotated[
        bool, typer.Option("--accept-host-key", help="Pin the scanned host key without asking.")
    ] = False,
    proxy: Annotated[Proxy, typer.Option("--proxy", help="Reverse proxy on that server.")] = Proxy.traefik,
    manage_proxy: Annotated[
        bool,
        typer.Option(
            "--manage-proxy/--no-manage-proxy",
            help="Zpanel runs the server's Traefik as the container zpanel-proxy (default); "
            "--no-manage-proxy: you run one reading /etc/zpanel/traefik.",
        ),
    ] = True,
    json_: Json = False,
) -> None:
    """Register a server reached over SSH; its host key is pinned."""
    valid_name(name, "server name")
    private_key = read_key(key)
    known = pinned_host_key(host, port, known_hosts, accept_host_key)
    body = {
        "name": name,
        "kind": "ssh",
        "host": host,
        "port": port,
        "user": user,
        "private_key": private_key,
        "known_hosts": known,
        "proxy": proxy.value,
    }
    if not manage_proxy:  # only when off: the default needs no field, so older gateways still accept it
        body["manage_proxy"] = False
    with Api() as api:
        created = api.post("/api/v1/servers", body)
    if json_:
        output.emit_json(created)
    else:
        output.console().print(
            f"Added server [bold]{created.get('name')}[/bold] ({user}@{host}:{port}). Try `zpanel server check {name}`."
        )


@app.command("list")
def list_(json_: Json = False) -> None:
    """List servers."""
    with Api() as api:
        items = api.get("/api/v1/servers")
    if json_:
        output.emit_json(items)
        return
    output.table(
        None,
        ["NAME", "KIND", "HOST", "PORT", "USER", "PROXY"],
        [[s.get("name"), s.get("kind"), s.get("host"), s.get("port"), s.get("user"), s.get("proxy")] for s in items],
    )


@app.command("check")
def check(name: Annotated[str, typer.Argument(help="Server name.")], json_: Json = False) -> None:
    """Check SSH and Docker reachability; exits non-zero when either fails."""
    with Api() as api:
        result = api.post(f"/api/v1/servers/{seg(name)}/check")
    ssh, docker = result.get("ssh") or {}, result.get("docker") or {}
    ok = bool(ssh.get("ok")) and bool(docker.get("ok"))
    if json_:
        output.emit_json(result)
    else:
        output.table(
            None,
            ["CHECK", "OK", "DETAIL"],
            [
                ["ssh", "yes" if ssh.get("ok") else "NO", ssh.get("detail")],
                [
                    "docker",
                    "yes" if docker.get("ok") else "NO",
                    " ".join(str(x) for x in (docker.get("version"), docker.get("detail")) if x),
                ],
            ],
        )
    if not ok:
        failed = next(label for label, part in (("SSH", ssh), ("Docker", docker)) if not part.get("ok"))
        detail = (ssh if failed == "SSH" else docker).get("detail") or "no detail"
        raise CliError(f"server {name}: {failed} check failed: {detail}")


@app.command("remove")
def remove(name: Annotated[str, typer.Argument(help="Server name.")], json_: Json = False) -> None:
    """Forget a server (its running containers are left alone)."""
    with Api() as api:
        api.delete(f"/api/v1/servers/{seg(name)}")
    if json_:
        output.emit_json({"deleted": name})
    else:
        output.console().print(f"Removed server {name}.")
