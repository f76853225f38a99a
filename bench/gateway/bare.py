"""The yardstick: a bare FastAPI endpoint served by uvicorn exactly as the gateway serves its app
(the same event loop — uvloop, as ``python -m zpanel_webhook_gateway`` installs it; ``asyncio``
for the stdlib one —, httptools, no access log, no lifespan). It reads the body and answers 202
with a small JSON document; nothing else.

    .venv/bin/python bench/gateway/bare.py PORT [uvloop|asyncio]
"""

from __future__ import annotations

import asyncio
import sys

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

app = FastAPI()


@app.post("/webhooks/{provider}")
async def webhook(provider: str, request: Request) -> JSONResponse:
    raw = await request.body()
    return JSONResponse({"status": "queued", "provider": provider, "bytes": len(raw)}, status_code=202)


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


async def main(port: int) -> None:
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="off", loop="none"
    )
    await uvicorn.Server(config).serve()


if __name__ == "__main__":
    if (sys.argv[2] if len(sys.argv) > 2 else "uvloop") == "uvloop":
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    asyncio.run(main(int(sys.argv[1])))
