"""Records in NATS KV buckets with compare-and-set updates.

``update(key, change)`` re-reads and retries when another writer got there first, so concurrent
services never lose each other's writes. Each application has at most one *active* deployment
(``locks`` bucket, key ``active.<app_id>``) and at most one *pending* one (``pending.<app_id>``):
a newer request replaces the pending one, which the caller then marks superseded.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Generic, TypeVar

import nats.js.errors
from nats.js.kv import VALID_KEY_RE, KeyValue
from pydantic import BaseModel

from zpanel.bus import Bus
from zpanel.errors import Conflict, NotFound
from zpanel.models import Application, Deployment, Server

T = TypeVar("T", bound=BaseModel)
Change = Callable[[T], T | None]


class Repo(Generic[T]):
    def __init__(self, bus: Bus, bucket: str, model: type[T], what: str) -> None:
        self.bus = bus
        self.bucket = bucket
        self.model = model
        self.what = what

    async def _kv(self) -> KeyValue:
        return await self.bus.kv(self.bucket)

    async def _read(self, key: str) -> tuple[bytes, int]:
        if not VALID_KEY_RE.fullmatch(key):  # not .match: its $ also matches before a final newline
            # nothing can be stored under it; a direct get would put it in a subject and fail
            raise NotFound(f"no {self.what} {key!r}")
        kv = await self._kv()
        try:
            # a read is safe to repeat: ride out a stream leader election or a reconnect
            entry = await self.bus._retrying(f"read {self.what} {key}", lambda: kv.get(key))
        except (nats.js.errors.KeyNotFoundError, nats.js.errors.KeyDeletedError) as exc:
            raise NotFound(f"no {self.what} {key!r}") from exc
        if entry.value is None:
            raise NotFound(f"no {self.what} {key!r}")
        return entry.value, int(entry.revision or 0)

    async def get_with_revision(self, key: str) -> tuple[T, int]:
        raw, rev = await self._read(key)
        return self.model.model_validate_json(raw), rev

    async def get(self, key: str) -> T:
        return (await self.get_with_revision(key))[0]

    async def find(self, key: str) -> T | None:
        try:
            return await self.get(key)
        except NotFound:
            return None

    async def create(self, key: str, record: T) -> T:
        kv = await self._kv()
        try:
            await kv.create(key, record.model_dump_json().encode())
        except nats.js.errors.KeyWrongLastSequenceError as exc:
            raise Conflict(f"{self.what} {key!r} exists already") from exc
        return record

    async def put(self, key: str, record: T) -> T:
        kv = await self._kv()
        await kv.put(key, record.model_dump_json().encode())
        return record

    async def update(self, key: str, change: Change[T], attempts: int = 50) -> T:
        """Apply ``change`` to the stored record with CAS; ``change`` returning None means no write."""
        kv = await self._kv()
        for _ in range(attempts):
            raw, rev = await self._read(key)
            # ``change`` may edit what it is given: it gets its own copy, parsed again from the
            # stored bytes (half the CPU of a deep copy of the parsed record)
            new = change(self.model.model_validate_json(raw))
            if new is None:
                return self.model.model_validate_json(raw)
            try:
                await kv.update(key, new.model_dump_json().encode(), last=rev)
                return new
            except nats.js.errors.KeyWrongLastSequenceError:
                await asyncio.sleep(0.005)
        raise Conflict(f"{self.what} {key!r} kept changing under a concurrent writer; try again")

    async def delete(self, key: str) -> None:
        kv = await self._kv()
        with contextlib.suppress(nats.js.errors.KeyNotFoundError):
            await kv.delete(key)

    async def keys(self, prefix: str | None = None) -> list[str]:
        return await keys(await self._kv(), prefix)

    async def all(self, prefix: str | None = None) -> list[T]:
        out = []
        for key in await self.keys(prefix):
            record = await self.find(key)
            if record is not None:
                out.append(record)
        return out


async def keys(kv: KeyValue, prefix: str | None = None) -> list[str]:
    """Keys under ``prefix.>``, filtered by the server. Read from the stream's subject list: a
    KV watch would leave an ephemeral consumer behind per call, and busy lists ran into the
    server's consumer limit. Deleted keys keep a marker subject, so each candidate is checked."""
    bucket_prefix = f"$KV.{kv._name}."
    pattern = bucket_prefix + (f"{prefix}.>" if prefix else ">")
    info = await kv._js.stream_info(kv._stream, subjects_filter=pattern)
    candidates = [subject[len(bucket_prefix) :] for subject in (info.state.subjects or {})]

    async def alive(key: str) -> str | None:
        try:
            entry = await kv.get(key)
        except (nats.js.errors.KeyNotFoundError, nats.js.errors.KeyDeletedError):
            return None
        return key if entry.value is not None else None

    found = await asyncio.gather(*(alive(k) for k in candidates))
    return sorted(k for k in found if k is not None)


class State:
    def __init__(self, bus: Bus) -> None:
        self.bus = bus
        self.apps: Repo[Application] = Repo(bus, "applications", Application, "application")
        self.servers: Repo[Server] = Repo(bus, "servers", Server, "server")
        self.deployments: Repo[Deployment] = Repo(bus, "deployments", Deployment, "deployment")

    # --- applications by name ---------------------------------------------------------------

    async def create_app(self, app: Application) -> Application:
        names = await self.bus.kv("app_names")
        try:
            await names.create(app.name, app.id.encode())
        except nats.js.errors.KeyWrongLastSequenceError as exc:
            raise Conflict(f"an application named {app.name!r} exists already; pick another name") from exc
        return await self.apps.create(app.id, app)

    async def app(self, name_or_id: str) -> Application:
        found = await self.apps.find(name_or_id)
        if found:
            return found
        if not VALID_KEY_RE.fullmatch(name_or_id):
            raise NotFound(f"no application {name_or_id!r}: `zpanel app list` shows them")
        names = await self.bus.kv("app_names")
        try:
            entry = await names.get(name_or_id)
        except (nats.js.errors.KeyNotFoundError, nats.js.errors.KeyDeletedError) as exc:
            raise NotFound(f"no application {name_or_id!r}: `zpanel app list` shows them") from exc
        return await self.apps.get((entry.value or b"").decode())

    async def delete_app(self, app: Application) -> None:
        names = await self.bus.kv("app_names")
        with contextlib.suppress(nats.js.errors.KeyNotFoundError):
            await names.delete(app.name)
        await self.apps.delete(app.id)

    # --- deployments --------------------------------------------------------------------------

    async def create_deployment(self, dep: Deployment) -> Deployment:
        created = await self.deployments.create(dep.id, dep)
        index = await self.bus.kv("deployment_index")
        await index.put(f"{dep.app_id}.{dep.id}", dep.created_at.isoformat().encode())
        return created

    async def app_deployments(self, app_id: str, limit: int = 50) -> list[Deployment]:
        index = await self.bus.kv("deployment_index")
        ids = [k.split(".", 1)[1] for k in await keys(index, app_id)]
        found = [d for d in await asyncio.gather(*(self.deployments.find(i) for i in ids)) if d is not None]
        found.sort(key=lambda d: d.created_at, reverse=True)
        return found[:limit]

    # --- one active deployment per application ---------------------------------------------

    async def claim_active(self, app_id: str, deployment_id: str) -> bool:
        locks = await self.bus.kv("locks")
        try:
            await locks.create(f"active.{app_id}", deployment_id.encode())
            return True
        except nats.js.errors.KeyWrongLastSequenceError:
            entry = await locks.get(f"active.{app_id}")
            return (entry.value or b"").decode() == deployment_id

    async def active(self, app_id: str) -> str | None:
        return await self._get_lock(f"active.{app_id}")

    async def release_active(self, app_id: str, deployment_id: str) -> bool:
        """Release only if ``deployment_id`` holds it (CAS), so a late duplicate cannot free a newer one."""
        return await self._delete_if(f"active.{app_id}", deployment_id)

    async def swap_pending(self, app_id: str, deployment_id: str) -> str | None:
        """Make ``deployment_id`` the pending one; return the one it replaced (to be superseded)."""
        locks = await self.bus.kv("locks")
        key = f"pending.{app_id}"
        for _ in range(50):
            try:
                entry = await locks.get(key)
                previous, rev = (entry.value or b"").decode(), entry.revision
            except (nats.js.errors.KeyNotFoundError, nats.js.errors.KeyDeletedError):
                previous, rev = None, None
            try:
                if rev is None:
                    await locks.create(key, deployment_id.encode())
                else:
                    await locks.update(key, deployment_id.encode(), last=rev)
                return previous or None
            except nats.js.errors.KeyWrongLastSequenceError:
                await asyncio.sleep(0.005)
        raise Conflict(f"the queue of application {app_id} kept changing; try again")

    async def take_pending(self, app_id: str) -> str | None:
        locks = await self.bus.kv("locks")
        key = f"pending.{app_id}"
        for _ in range(50):
            try:
                entry = await locks.get(key)
            except (nats.js.errors.KeyNotFoundError, nats.js.errors.KeyDeletedError):
                return None
            if not entry.value:
                return None
            try:
                await locks.delete(key, last=entry.revision)
                return entry.value.decode()
            except nats.js.errors.KeyWrongLastSequenceError:
                await asyncio.sleep(0.005)
        return None

    # --- the live version and the open (non-terminal) deployments ----------------------------

    async def set_current(self, app_id: str, deployment_id: str) -> None:
        locks = await self.bus.kv("locks")
        await locks.put(f"current.{app_id}", deployment_id.encode())

    async def current(self, app_id: str) -> str | None:
        return await self._get_lock(f"current.{app_id}")

    async def mark_open(self, deployment_id: str) -> None:
        locks = await self.bus.kv("locks")
        await locks.put(f"open.{deployment_id}", b"1")

    async def mark_closed(self, deployment_id: str) -> None:
        locks = await self.bus.kv("locks")
        with contextlib.suppress(nats.js.errors.KeyNotFoundError):
            await locks.delete(f"open.{deployment_id}")

    async def open_deployments(self) -> list[str]:
        return [k.split(".", 1)[1] for k in await keys(await self.bus.kv("locks"), "open")]

    async def drop_pending_if(self, app_id: str, deployment_id: str) -> bool:
        return await self._delete_if(f"pending.{app_id}", deployment_id)

    async def _get_lock(self, key: str) -> str | None:
        locks = await self.bus.kv("locks")
        try:
            entry = await locks.get(key)
        except (nats.js.errors.KeyNotFoundError, nats.js.errors.KeyDeletedError):
            return None
        return (entry.value or b"").decode() or None

    async def _delete_if(self, key: str, value: str) -> bool:
        locks = await self.bus.kv("locks")
        try:
            entry = await locks.get(key)
        except (nats.js.errors.KeyNotFoundError, nats.js.errors.KeyDeletedError):
            return False
        if (entry.value or b"").decode() != value:
            return False
        try:
            await locks.delete(key, last=entry.revision)
        except nats.js.errors.KeyWrongLastSequenceError:
            return False
        return True
