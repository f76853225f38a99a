"""The dashboard's two assets, shipped in the package (no CDN, no build step). Their URLs carry a
hash of the content, so browsers keep them for a year and still see a new version at once."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import Response

HERE = Path(__file__).resolve().parent / "static"
TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
FILES = ("dashboard.css", "dashboard.js")

router = APIRouter(include_in_schema=False)


@cache
def _load(name: str) -> tuple[bytes, str]:
    data = (HERE / name).read_bytes()
    return data, hashlib.sha256(data).hexdigest()[:12]


def asset_url(name: str) -> str:
    return f"/static/{name}?v={_load(name)[1]}"


@router.get("/static/{name}")
async def asset(name: str) -> Response:
    if name not in FILES:
        return Response("no such file", status_code=404, media_type="text/plain")
    data, version = _load(name)
    return Response(
        data,
        media_type=TYPES[Path(name).suffix],
        headers={
            "Cache-Control": "public, max-age=31536000, immutable",
            "ETag": f'"{version}"',
            "X-Content-Type-Options": "nosniff",
        },
    )
