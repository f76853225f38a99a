"""A KV bucket followed in memory: one long-lived watch hands every change to ``on_entry``, and
``sync()`` waits until the copy has reached the bucket's last sequence (one stream-info request),
so a change made a moment ago, by this process or another, is seen. Reading the bucket per request
instead costs a watch plus one read per key, and each watch leaves an ephemeral consumer behind.
The application catalogue and the queue gauge are both such copies.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from zpanel.bus import Bus


class KvMirror:
    def __init__(self, bus: Bus, bucket: str, on_entry: Callable[[Any], None], sync_timeout: float = 2.0) -> None:
        self.bus = bus
        self.bucket = bucket
        self.on_entry = on_entry
        self.sync_timeout = sync_timeout
        self._seen = 0
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    def ensure_running(self) -> bool:
        """Start the watch when it is not running; True when it was (re)started just now."""
        if self._task is not None and not self._task.done():
            return False
        self._task = asyncio.create_task(self._watch())
        return True

    async def sync(self) -> None:
        """Return once every change up to the bucket's last sequence has been seen; raises when the
        bucket does not answer or the copy does not catch up within ``sync_timeout``."""
        info = await self.bus.js.stream_info(f"KV_{self.bucket}")
        target = int(info.state.last_seq)
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: self._seen >= target), self.sync_timeout)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def _watch(self) -> None:
        kv = await self.bus.kv(self.bucket)
        watcher = await kv.watch(">")
        try:
            async for entry in watcher:
                if entry is None:
                    continue  # end of the initial values: the sequence check covers it
                self.on_entry(entry)
                async with self._changed:
                    self._seen = max(self._seen, int(entry.revision or 0))
                    self._changed.notify_all()
        finally:
            with contextlib.suppress(Exception):
                await watcher.stop()
