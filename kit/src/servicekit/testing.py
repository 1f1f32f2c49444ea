"""Helpers for services' unit tests: a SQLite database with the kit's tables, a recording
publisher, and Kafka-like records. No broker, no server."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from servicekit import db
from servicekit.consumer import IncomingRecord
from servicekit.outbox import OutgoingRecord

_offsets = itertools.count()


@asynccontextmanager
async def sqlite_sessions(
    directory: Path, *metadata: MetaData
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on a fresh SQLite file with the kit's tables and the given ones."""
    engine = db.create_engine(f"sqlite+aiosqlite:///{directory}/test.db")
    async with engine.begin() as connection:
        for tables in (db.kit_metadata, *metadata):
            await connection.run_sync(tables.create_all)
    try:
        yield db.session_factory(engine)
    finally:
        await engine.dispose()


async def outbox_rows(sessions: async_sessionmaker[AsyncSession]) -> list[Any]:
    async with sessions() as session:
        return list(
            (await session.execute(select(db.outbox_table).order_by(db.outbox_table.c.seq))).all()
        )


class RecordingPublisher:
    """Keeps what it is asked to publish; fails the next `fail_next` calls whole, and each
    record for which `refuse` returns an error."""

    def __init__(
        self, refuse: Callable[[OutgoingRecord], BaseException | None] = lambda _: None
    ) -> None:
        self.published: list[OutgoingRecord] = []
        self.fail_next = 0
        self.refuse = refuse

    def destination(self, topic: str) -> str:
        return topic

    async def close(self) -> None:
        pass

    async def publish(self, records: Sequence[OutgoingRecord]) -> list[BaseException | None]:
        if self.fail_next:
            self.fail_next -= 1
            raise ConnectionError("broker unavailable")
        results = [self.refuse(record) for record in records]
        self.published.extend(r for r, error in zip(records, results, strict=True) if not error)
        return results


def record(
    topic: str,
    value: bytes,
    *,
    key: bytes | None = b"k",
    headers: dict[str, str] | None = None,
    partition: int = 0,
) -> IncomingRecord:
    return IncomingRecord(topic, partition, next(_offsets), key, value, headers or {})
