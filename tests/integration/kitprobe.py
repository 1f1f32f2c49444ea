"""A minimal service built on the kit, for the kit's integration tests.

It consumes `kitprobe.ping` events from $PROBE_IN_TOPIC, records one effect row per handling
(no unique constraint: a second handling would show as a second row) and answers with a
`kitprobe.pong` event on $PROBE_OUT_TOPIC through the outbox.

    python kitprobe.py serve             run as a service (HTTP on $HTTP_PORT)
    python kitprobe.py commit-and-hang   commit one pong to the outbox, print its id, never publish
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence

from fastapi import APIRouter
from sqlalchemy import Column, Integer, String, Table, func, insert, select

from gonghui_contracts import Catalog, Envelope, EventPayload
from servicekit import KitSettings, PermanentError, Runtime, Subscription, Unit, serve
from servicekit.db import kit_metadata, new_metadata


class Ping(EventPayload):
    EVENT_TYPE = "kitprobe.ping"
    n: int
    fail: bool = False
    needs_permit: bool = False
    pad: int = 0  # characters of padding the pong carries (to make one too large to publish)


class Pong(EventPayload):
    EVENT_TYPE = "kitprobe.pong"
    n: int
    padding: str = ""


CATALOG = Catalog([Ping, Pong])
metadata = new_metadata()
effects = Table(
    "probe_effects",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(64), nullable=False),
    Column("n", Integer, nullable=False),
)
OUT_TOPIC = os.environ.get("PROBE_OUT_TOPIC", "kitprobe.out")


def runtime(settings: KitSettings) -> Runtime:
    rt = Runtime(settings, catalog=CATALOG)

    async def on_pings(unit: Unit, events: Sequence[Envelope[Ping]]) -> None:
        await unit.session.execute(
            insert(effects), [{"event_id": str(e.event_id), "n": e.data.n} for e in events]
        )
        for event in events:
            if event.data.fail:
                raise ValueError("asked to fail")
            if (
                event.data.needs_permit
                and rt.redis
                and not await rt.redis.exists(f"kitprobe:permit:{event.data.n}")
            ):
                raise PermanentError(f"no permit for {event.data.n}")
            pong = Pong(n=event.data.n, padding="x" * event.data.pad)
            unit.emit(pong, key=event.key, cause=event, topic=OUT_TOPIC)

    rt.subscribe(Subscription(os.environ.get("PROBE_IN_TOPIC", "kitprobe.in"), on={Ping: on_pings}))
    return rt


async def create_tables(rt: Runtime) -> None:
    async with rt.engine.begin() as connection:
        await connection.run_sync(kit_metadata.create_all)
        await connection.run_sync(metadata.create_all)
    await rt.engine.dispose()  # its connections belong to this event loop, not the server's


def main() -> None:
    settings = KitSettings()
    rt = runtime(settings)
    asyncio.run(create_tables(rt))
    if sys.argv[1:] == ["commit-and-hang"]:
        asyncio.run(commit_and_hang(rt))
        return
    router = APIRouter()

    @router.get("/effects")
    async def count_effects() -> dict[str, int]:
        async with rt.sessions() as session:
            return {"effects": await session.scalar(select(func.count()).select_from(effects)) or 0}

    serve(rt.http_app(title="kitprobe", routers=[router]), settings)


async def commit_and_hang(rt: Runtime) -> None:
    async with rt.uow() as unit:
        envelope = unit.emit(Pong(n=42), key="hang", topic=OUT_TOPIC)
    print(envelope.event_id, flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    main()
