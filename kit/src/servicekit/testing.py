"""Helpers for services' unit tests: a SQLite database with the kit's tables, a recording
publisher, Kafka-like records and a consumer of records held in memory. No broker, no server."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiokafka import ConsumerRebalanceListener, ConsumerRecord, TopicPartition
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


class InMemoryConsumer:
    """The part of a Kafka consumer the kit's read-ahead consumer uses, over records published
    to it in memory: it hands out those of the topics subscribed to from its positions, and keeps
    the commits and seeks asked of it."""

    def __init__(self) -> None:
        self.logs: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]] = {}
        self.position: dict[TopicPartition, int] = {}
        self.committed: dict[TopicPartition, int] = {}
        self.commits: list[dict[TopicPartition, int]] = []
        self.seeks: list[tuple[TopicPartition, int]] = []
        self._paused: set[TopicPartition] = set()
        self.subscribed: set[str] = set()
        self.listener: ConsumerRebalanceListener | None = None
        self.stopped_after_commits: int | None = None
        self._published = asyncio.Event()
        self._changed = asyncio.Condition()

    def publish(
        self, topic: str, value: bytes, *, key: bytes | None = None, partition: int = 0
    ) -> ConsumerRecord[bytes, bytes]:
        tp = TopicPartition(topic, partition)
        log = self.logs.setdefault(tp, [])
        self.position.setdefault(tp, 0)
        published = ConsumerRecord(
            topic=topic,
            partition=partition,
            offset=len(log),
            timestamp=0,
            timestamp_type=0,
            key=key,
            value=value,
            checksum=None,
            serialized_key_size=-1 if key is None else len(key),  # as aiokafka gives it
            serialized_value_size=len(value),
            headers=(),
        )
        log.append(published)
        self._published.set()
        return published

    def subscribe(self, topics: Sequence[str], listener: ConsumerRebalanceListener) -> None:
        self.subscribed = set(topics)
        self.listener = listener

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        self.stopped_after_commits = len(self.commits)

    async def topics(self) -> set[str]:
        return {tp.topic for tp in self.logs}

    async def getmany(
        self, *, timeout_ms: int, max_records: int | None
    ) -> dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]:
        if not self._unread():
            self._published.clear()
            try:
                await asyncio.wait_for(self._published.wait(), timeout_ms / 1000)
            except TimeoutError:
                return {}
        left = max_records if max_records is not None else sum(map(len, self.logs.values()))
        fetched: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]] = {}
        for tp in self._fetchable():
            taken = self.logs[tp][self.position[tp] : self.position[tp] + left]
            if taken:
                fetched[tp] = taken
                self.position[tp] += len(taken)
                left -= len(taken)
        await self._tell()
        return fetched

    def _readable(self) -> list[TopicPartition]:
        return [tp for tp in self.logs if tp.topic in self.subscribed]

    def _fetchable(self) -> list[TopicPartition]:
        return [tp for tp in self._readable() if tp not in self._paused]

    def _unread(self) -> bool:
        return any(self.position[tp] < len(self.logs[tp]) for tp in self._fetchable())

    def assignment(self) -> set[TopicPartition]:
        return set(self._readable())

    def pause(self, *partitions: TopicPartition) -> None:
        self._paused.update(partitions)

    def resume(self, *partitions: TopicPartition) -> None:
        self._paused.difference_update(partitions)
        self._published.set()

    def paused(self) -> set[TopicPartition]:
        return set(self._paused)

    async def until(self, condition: Callable[[], bool], seconds: float = 5.0) -> None:
        """Wait until `condition` holds, tried again whenever records are read or committed."""
        async with asyncio.timeout(seconds), self._changed:
            await self._changed.wait_for(condition)

    async def until_all_committed(self, seconds: float = 5.0) -> None:
        """Wait until every record of the topics subscribed to is committed."""
        await self.until(
            lambda: all(self.committed.get(tp, 0) == len(self.logs[tp]) for tp in self._readable()),
            seconds,
        )

    async def _tell(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.commits.append(dict(offsets))
        self.committed.update(offsets)
        await self._tell()

    def seek(self, partition: TopicPartition, offset: int) -> None:
        self.seeks.append((partition, offset))
        self.position[partition] = offset
        self._published.set()
