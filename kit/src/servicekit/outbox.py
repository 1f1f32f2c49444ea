"""Transactional outbox: events are written with the state change that causes them, and a relay
publishes them after commit.

Delivery is at least once: a crash after Kafka acknowledged a batch but before the rows were
deleted publishes that batch again on restart, which consumers absorb through their inbox (the
event id is the deduplication key). Nothing uncommitted is ever published.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from servicekit import telemetry
from servicekit.db import outbox_table
from servicekit.loop import WakeableLoop
from servicekit.metrics import OUTBOX_BACKLOG, PUBLISHED

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutgoingRecord:
    message_id: str
    topic: str
    key: bytes | None
    value: bytes
    headers: dict[str, str] = field(default_factory=dict)


class Publisher(Protocol):
    async def publish(self, records: Sequence[OutgoingRecord]) -> None:
        """Send every record; return once Kafka acknowledged all of them, raise otherwise."""

    def destination(self, topic: str) -> str:
        """The Kafka topic a record for registry topic `topic` goes to."""


class BrokerPublisher:
    """Publishes through a FastStream Kafka broker (idempotent producer, acks=all).
    Outbox rows name topics as the registry does; `topic_prefix` is added here, at the edge."""

    def __init__(self, broker: Any, topic_prefix: str = "") -> None:
        self.broker = broker
        self.topic_prefix = topic_prefix

    def destination(self, topic: str) -> str:
        return self.topic_prefix + topic

    async def publish(self, records: Sequence[OutgoingRecord]) -> None:
        pending = []
        for record in records:
            result = await self.broker.publish(
                record.value,
                topic=self.destination(record.topic),
                key=record.key,
                headers=record.headers,
                no_confirm=True,
            )
            if isinstance(result, asyncio.Future):
                pending.append(result)
        await asyncio.gather(*pending)


async def write(session: AsyncSession, records: Sequence[OutgoingRecord]) -> None:
    """Stage records in the caller's transaction; they are published only if it commits."""
    if not records:
        return
    now = datetime.now(UTC)
    await session.execute(
        insert(outbox_table),
        [
            {
                "message_id": r.message_id,
                "topic": r.topic,
                "key": r.key,
                "value": r.value,
                "headers": json.dumps(r.headers),
                "created_at": now,
            }
            for r in records
        ],
    )


class OutboxRelay:
    """Publishes committed outbox rows in order, in batches: right after a commit (`wake`) and
    on a timer, which sweeps up whatever a crashed process left behind."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        publisher: Publisher,
        *,
        batch_size: int = 500,
        sweep_seconds: float = 2.0,
    ) -> None:
        self.sessions = sessions
        self.publisher = publisher
        self.batch_size = batch_size
        self.sweep_seconds = sweep_seconds
        self._loop = WakeableLoop("outbox-relay", self._step, sweep_seconds)

    def wake(self) -> None:
        self._loop.wake()

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> int:
        """Stop the loop, then publish everything still committed; returns how many."""
        await self._loop.stop()
        return await self.drain()

    async def _step(self) -> bool:
        return await self.relay_once() >= self.batch_size

    async def drain(self) -> int:
        total = 0
        while count := await self.relay_once():
            total += count
        return total

    async def relay_once(self) -> int:
        """Publish one batch of committed rows and delete them; returns how many."""
        with telemetry.quiet():
            async with self.sessions() as session, session.begin():
                rows = (
                    await session.execute(
                        select(outbox_table)
                        .order_by(outbox_table.c.seq)
                        .limit(self.batch_size)
                        .with_for_update(skip_locked=True)
                    )
                ).all()
                if rows:
                    await self._publish(rows)
                    await session.execute(
                        delete(outbox_table).where(outbox_table.c.seq.in_([r.seq for r in rows]))
                    )
                await self._measure_backlog(session, len(rows))
        for row in rows:
            PUBLISHED.labels(row.topic).inc()
        return len(rows)

    async def _publish(self, rows: Sequence[Any]) -> None:
        stored = [json.loads(row.headers) for row in rows]
        with telemetry.tracer().start_as_current_span(
            "outbox relay",
            links=telemetry.links_to(stored),
            attributes={"messaging.batch.message_count": len(rows)},
        ):
            spans = [
                telemetry.start_send_span(
                    self.publisher.destination(row.topic), headers, row.message_id
                )
                for row, headers in zip(rows, stored, strict=True)
            ]
            records = [
                OutgoingRecord(
                    row.message_id,
                    row.topic,
                    row.key,
                    row.value,
                    telemetry.headers_for(span, headers),
                )
                for row, span, headers in zip(rows, spans, stored, strict=True)
            ]
            try:
                await self.publisher.publish(records)
            except Exception as error:
                for span in spans:
                    telemetry.record_error(span, error)
                raise
            finally:
                for span in spans:
                    span.end()

    async def _measure_backlog(self, session: AsyncSession, published: int) -> None:
        # A short batch took every visible row, so only a full one needs counting.
        if published < self.batch_size:
            OUTBOX_BACKLOG.set(0)
        else:
            OUTBOX_BACKLOG.set(
                await session.scalar(select(func.count()).select_from(outbox_table)) or 0
            )
