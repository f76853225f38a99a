"""Servers: register (the private key sealed, the host key pinned), list, show, delete, check.

The server named ``local`` (kind ``local``) is this machine and needs neither key nor host key.
An SSH server needs both: the CLI fetches the host key and asks the user to confirm it, so no key is
ever trusted silently here.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from fastapi.responses import JSONResponse

from zpanel.errors import Conflict, NotFound, PermanentError
from zpanel.models import Server
from zpanel_webhook_gateway.api import views
from zpanel_webhook_gateway.api.auth import require_token
from zpanel_webhook_gateway.api.deps import Deps, get_deps
from zpanel_webhook_gateway.api.schemas import ServerCreate, path_key

router = APIRouter(prefix="/api/v1/servers", tags=["servers"], dependencies=[Depends(require_token)])
DepsDep = Annotated[Deps, Depends(get_deps)]


async def load_server(deps: Deps, name: str) -> Server:
    missing = f"no server {name!r}: `zpanel server list` shows them"
    path_key(name, missing)
    found = await deps.state.servers.find(name)
    if found is None:
        raise NotFound(missing)
    return found


def _check_known_hosts(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    if not lines or any(len(ln.split()) < 3 for ln in lines):
        raise PermanentError(
            "known_hosts must hold OpenSSH known_hosts lines (HOST KEYTYPE KEY): `ssh-keyscan -p PORT HOST` prints them"
        )
    return "\n".join(lines)


def build_server(body: ServerCreate, deps: Deps) -> Server:
    kind = body.kind or ("local" if body.name == "local" else "ssh")
    if kind == "local":
        return Server(
            name=body.name,
            kind="local",
            host=body.host or "127.0.0.1",
            proxy=body.proxy,
            max_concurrency=body.max_concurrency,
        )
    if not body.host:
        raise PermanentError("host: an SSH server needs --host (a name or an IP address)")
    if not body.private_key or "PRIVATE KEY" not in body.private_key:
        raise PermanentError("private_key: give the PEM text of the SSH private key (`--key FILE`)")
    if not body.known_hosts:
        raise PermanentError(
            "known_hosts: the server's host key must be pinned; `zpanel server add` fetches it and asks you to confirm"
        )
    return Server(
        name=body.name,
        kind="ssh",
        host=body.host,
        port=body.port,
        user=body.user,
        private_key=deps.cipher.seal(body.private_key.strip() + "\n"),
        known_hosts=_check_known_hosts(body.known_hosts),
        proxy=body.proxy,
        max_concurrency=body.max_concurrency,
        manage_proxy=body.manage_proxy,
        proxy_http_port=body.proxy_http_port,
        proxy_https_port=body.proxy_https_port,
        proxy_dir=body.proxy_dir,
    )


@router.post("", status_code=201, summary="Register a server (the private key is stored encrypted)")
async def create(body: ServerCreate, deps: DepsDep) -> JSONResponse:
    server = build_server(body, deps)
    try:
        await deps.state.servers.create(server.name, server)
    except Conflict as exc:
        raise Conflict(f"a server named {server.name!r} exists already: delete it first to replace it") from exc
    return JSONResponse(views.server(server), status_code=201)


@router.get("", summary="List servers")
async def list_servers(deps: DepsDep) -> list[dict[str, Any]]:
    return [views.server(s) for s in sorted(await deps.state.servers.all(), key=lambda s: s.name)]


@router.get("/{server}", summary="One server")
async def show(server: str, deps: DepsDep) -> dict[str, Any]:
    return views.server(await load_server(deps, server))


@router.delete("/{server}", status_code=204, response_class=Response, summary="Forget a server no application uses")
async def delete(server: str, deps: DepsDep) -> Response:
    record = await load_server(deps, server)
    users = sorted(a.name for a in await deps.state.apps.all() if a.server == record.name)
    if users:
        raise Conflict(f"server {record.name!r} still runs {', '.join(users)}: delete or move those applications first")
    await deps.state.servers.delete(record.name)
    return Response(status_code=204)


@router.post("/{server}/check", summary="Check SSH and Docker reachability")
async def check(server: str, deps: DepsDep) -> dict[str, Any]:
    record = await load_server(deps, server)
    result = await deps.server_checker(record, deps.cipher)
    return {"server": record.name, "ssh": result["ssh"], "docker": result["docker"]}
