"""Transactional outbox: events are written with the state change that causes them, and a relay
publishes them after commit.

Delivery is at least once: a crash after Kafka acknowledged a batch but before the rows were
deleted publishes that batch again on restart, which consumers absorb through their inbox (the
event id is the deduplication key). Nothing uncommitted is ever published. A row that failed for
the moment is sent again after rows behind it were published, so order holds per batch, not
across a broker failure.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer
from aiokafka import errors as kafka_errors
from aiokafka.partitioner import murmur2
from aiokafka.producer.message_accumulator import BatchBuilder
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from servicekit import telemetry
from servicekit.db import insert_rows, outbox_parked_table, outbox_table
from servicekit.errors import safe_reason
from servicekit.loop import WakeableLoop
from servicekit.metrics import (
    OUTBOX_BACKLOG,
    OUTBOX_LAG,
    OUTBOX_PARKED,
    OUTBOX_RELAY_LAG,
    PUBLISHED,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutgoingRecord:
    message_id: str
    topic: str
    key: bytes | None
    value: bytes
    headers: dict[str, str] = field(default_factory=dict)


Results = list[BaseException | None]


class Publisher(Protocol):
    async def publish(self, records: Sequence[OutgoingRecord]) -> Results:
        """Send every record; return, in order, None for each record Kafka acknowledged and
        the error for each it did not. Raise only when nothing could be sent at all."""

    def destination(self, topic: str) -> str:
        """The Kafka topic a record for registry topic `topic` goes to."""

    async def close(self) -> None:
        """Release the connection, if any."""


class KafkaPublisher:
    """Publishes with an idempotent producer of its own (acks=all). Outbox rows name topics as
    the registry does; `topic_prefix` is added here, at the edge.

    After the broker refused a record, the producer is replaced: an idempotent producer whose
    batch was refused can send nothing more to that partition (the broker answers every later
    batch with OutOfOrderSequenceNumber), so without a new producer id one refusal would stall
    the partition for good.
    """

    def __init__(
        self,
        make_producer: Callable[[], AIOKafkaProducer],
        topic_prefix: str = "",
        max_request_size: int = 1_048_576,  # the producer's own default
    ) -> None:
        self.make_producer = make_producer
        self.topic_prefix = topic_prefix
        self.max_request_size = max_request_size
        self._producer: AIOKafkaProducer | None = None

    def destination(self, topic: str) -> str:
        return self.topic_prefix + topic

    async def publish(self, records: Sequence[OutgoingRecord]) -> Results:
        results = await self._send(records)
        if len(records) > 1:
            # The producer packs records into batches the broker judges whole: a batch over a
            # topic's limit is refused for every record in it, though each alone may fit.
            for index in [i for i, r in enumerate(results) if isinstance(r, _TOO_LARGE)]:
                [results[index]] = await self._send([records[index]])
        return results

    async def _send(self, records: Sequence[OutgoingRecord]) -> Results:
        """Send `records` in one batch a partition (more where one fills): one acknowledgement
        to wait for a batch, not a future a record. Records keep their order in a partition,
        and after a batch was refused before it left, the rest of its partition waits too."""
        producer = await self._started()
        results: Results = [None] * len(records)
        in_flight: list[tuple[list[int], asyncio.Future[Any]]] = []
        filling: dict[tuple[str, int], _Batch] = {}
        refused: dict[tuple[str, int], BaseException] = {}
        partitions = _Partitions(producer)

        async def send(to: tuple[str, int], batch: _Batch) -> None:
            topic, partition = to
            try:
                acknowledged = await producer.send_batch(batch.builder, topic, partition=partition)
            except Exception as error:  # refused before it left
                refused[to] = error
                for index in batch.members:
                    results[index] = error
            else:
                in_flight.append((batch.members, acknowledged))

        for index, record in enumerate(records):
            topic = self.destination(record.topic)
            headers = [(name, value.encode()) for name, value in record.headers.items()]
            try:
                to = (topic, await partitions.of(topic, record.key))
                _check_size(record, headers, self.max_request_size)
            except Exception as error:  # refused before it left, e.g. too large for the producer
                results[index] = error
                continue
            # a partition refused in this pass is never filling again: it is popped before sending
            if to in filling and filling[to].add(index, record, headers):
                continue
            if to in filling:  # full
                await send(to, filling.pop(to))
            if to in refused:
                results[index] = refused[to]
                continue
            filling[to] = _Batch(producer.create_batch())
            filling[to].add(index, record, headers)  # a batch always takes its first record
        for to, batch in filling.items():
            await send(to, batch)

        outcomes = await asyncio.gather(*(f for _, f in in_flight), return_exceptions=True)
        refused_by_broker = False
        for (members, _), outcome in zip(in_flight, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                for index in members:
                    results[index] = outcome
                refused_by_broker |= isinstance(outcome, kafka_errors.BrokerResponseError)
        if refused_by_broker:
            await self.close()
        return results

    async def _started(self) -> AIOKafkaProducer:
        if self._producer is None:
            producer = self.make_producer()
            await producer.start()
            self._producer = producer
        return self._producer

    async def close(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()


@dataclass
class _Batch:
    builder: BatchBuilder
    members: list[int] = field(default_factory=list)  # the records' places in the pass

    def add(self, index: int, record: OutgoingRecord, headers: list[tuple[str, bytes]]) -> bool:
        """False when the batch is full."""
        if (
            self.builder.append(timestamp=None, key=record.key, value=record.value, headers=headers)
            is None
        ):
            return False
        self.members.append(index)
        return True


class _Partitions:
    """The partition of a record as the producer would choose it (murmur2 of the key, as every
    Kafka client does), with each topic's partitions and each key's hash found once a pass: a
    pass often carries several events of one key, to several topics."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self.producer = producer
        self._of_topic: dict[str, list[int]] = {}
        self._hashes: dict[bytes, int] = {}

    async def of(self, topic: str, key: bytes | None) -> int:
        partitions = self._of_topic.get(topic)
        if partitions is None:
            partitions = self._of_topic[topic] = sorted(await self.producer.partitions_for(topic))
        if key is None:
            return random.choice(partitions)
        hashed = self._hashes.get(key)
        if hashed is None:
            hashed = self._hashes[key] = murmur2(key) & 0x7FFFFFFF
        return partitions[hashed % len(partitions)]


def _check_size(record: OutgoingRecord, headers: list[tuple[str, bytes]], limit: int) -> None:
    size = DefaultRecordBatchBuilder.estimate_size_in_bytes(record.key, record.value, headers)
    if size > limit:
        raise kafka_errors.MessageSizeTooLargeError(
            f"{size} bytes, more than the producer's max_request_size of {limit}"
        )


_TOO_LARGE = (kafka_errors.MessageSizeTooLargeError, kafka_errors.RecordListTooLargeError)
_NEVER_ACCEPTED: tuple[type[BaseException], ...] = (
    kafka_errors.MessageSizeTooLargeError,
    kafka_errors.RecordTooLargeError,
    kafka_errors.RecordListTooLargeError,
    kafka_errors.InvalidTopicError,
    kafka_errors.TopicAuthorizationFailedError,
    kafka_errors.CorruptRecordException,
    kafka_errors.UnsupportedForMessageFormatError,
    TypeError,  # the record itself cannot be serialised
    ValueError,
)


def never_accepted(error: BaseException) -> bool:
    """True when the broker will refuse this record however often it is sent (too large, a
    topic it may not write, a record it cannot read); False for failures of the moment."""
    return isinstance(error, _NEVER_ACCEPTED)


async def write(session: AsyncSession, records: Sequence[OutgoingRecord]) -> None:
    """Stage records in the caller's transaction; they are published only if it commits."""
    if not records:
        return
    now = datetime.now(UTC)
    await insert_rows(
        session,
        outbox_table,
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


BACKLOG_COUNT_SECONDS = 5.0


class OutboxRelay:
    """Publishes committed outbox rows in order, in batches: right after a commit (`wake`) and
    on a timer, which sweeps up whatever a crashed process left behind.

    One bad row never holds up the others: every row the broker acknowledged is deleted even
    when another row of its batch failed, and a row the broker can never take (larger than
    `max_record_bytes`, refused as too large, a topic it may not write) is parked in
    `kit_outbox_parked` with the reason, counted and logged once; `servicekit outbox` lists,
    retries and drops parked rows. A row that failed for the moment stays for the next pass.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        publisher: Publisher,
        *,
        batch_size: int = 500,
        sweep_seconds: float = 2.0,
        max_record_bytes: int = 1_000_000,
    ) -> None:
        self.sessions = sessions
        self.publisher = publisher
        self.batch_size = batch_size
        self.sweep_seconds = sweep_seconds
        self.max_record_bytes = max_record_bytes
        self._loop = WakeableLoop("outbox-relay", self._step, sweep_seconds)
        self._counted_at = -BACKLOG_COUNT_SECONDS

    def wake(self) -> None:
        self._loop.wake()

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> int:
        """Stop the loop, then publish everything still committed; returns how many."""
        await self._loop.stop()
        try:
            return await self.drain()
        finally:
            await self.publisher.close()

    async def _step(self) -> bool:
        return await self.relay_once() >= self.batch_size

    async def drain(self) -> int:
        total = 0
        while count := await self.relay_once():
            total += count
        return total

    async def relay_once(self) -> int:
        """Publish one batch of committed rows; delete those acknowledged and park those that
        can never be published. Returns how many rows left the outbox; raises, after removing
        them, if others failed for the moment (the loop then backs off)."""
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
                taken_at = datetime.now(UTC)
                OUTBOX_LAG.set(_age(rows[0].created_at, taken_at) if rows else 0.0)
                sendable, parked = self._set_apart_oversized(rows)
                failures: list[BaseException] = []
                if sendable:
                    results = await self._publish(sendable)
                    for row, error in zip(sendable, results, strict=True):
                        if error is None:
                            continue
                        if never_accepted(error):
                            parked.append((row, f"refused by Kafka: {safe_reason(error)}"))
                        else:
                            failures.append(error)
                    published = [r for r, e in zip(sendable, results, strict=True) if e is None]
                else:
                    published = []
                await self._park(session, parked)
                done = [row.seq for row in published] + [row.seq for row, _ in parked]
                if done:
                    await session.execute(delete(outbox_table).where(outbox_table.c.seq.in_(done)))
                await self._measure_backlog(session, len(rows))
        acknowledged_at = datetime.now(UTC)
        for row in published:
            PUBLISHED.labels(row.topic).inc()
            OUTBOX_RELAY_LAG.observe(_age(row.created_at, acknowledged_at))
        if failures:
            raise failures[0]
        return len(done)

    def _set_apart_oversized(self, rows: Sequence[Any]) -> tuple[list[Any], list[tuple[Any, str]]]:
        sendable, oversized = [], []
        for row in rows:
            size = len(row.value) + len(row.key or b"") + len(row.headers)
            if size > self.max_record_bytes:
                oversized.append(
                    (row, f"{size} bytes, more than the {self.max_record_bytes} Kafka takes")
                )
            else:
                sendable.append(row)
        return sendable, oversized

    async def _park(self, session: AsyncSession, parked: Sequence[tuple[Any, str]]) -> None:
        if not parked:
            return
        now = datetime.now(UTC)
        await session.execute(
            insert(outbox_parked_table),
            [
                {
                    "message_id": row.message_id,
                    "topic": row.topic,
                    "key": row.key,
                    "value": row.value,
                    "headers": row.headers,
                    "created_at": row.created_at,
                    "parked_at": now,
                    "reason": reason[:500],
                }
                for row, reason in parked
            ],
        )
        for row, reason in parked:
            OUTBOX_PARKED.labels(row.topic).inc()
            log.error(
                "outbox row %s for %s parked, it can never be published: %s",
                row.message_id,
                row.topic,
                reason,
            )

    async def _publish(self, rows: Sequence[Any]) -> Results:
        stored = [json.loads(row.headers) for row in rows]
        # Most rows belong to traces not sampled: their stored context goes out as it is.
        causes = [None if telemetry.unsampled(h) else telemetry.extract(h) for h in stored]
        with telemetry.tracer().start_as_current_span(
            "outbox relay",
            links=telemetry.links_to(c for c in causes if c is not None),
            attributes={"messaging.batch.message_count": len(rows)},
        ):
            spans = [
                None
                if cause is None
                else telemetry.start_send_span(
                    self.publisher.destination(row.topic), cause, row.message_id
                )
                for row, cause in zip(rows, causes, strict=True)
            ]
            records = [
                OutgoingRecord(
                    row.message_id,
                    row.topic,
                    row.key,
                    row.value,
                    headers if span is None else telemetry.headers_for(span, headers),
                )
                for row, span, headers in zip(rows, spans, stored, strict=True)
            ]
            try:
                results = await self.publisher.publish(records)
            except Exception as error:
                results = [error] * len(records)
            for span, outcome in zip(spans, results, strict=True):
                if span is None:
                    continue
                if outcome is not None:
                    telemetry.record_error(span, outcome)
                span.end()
            return results

    async def _measure_backlog(self, session: AsyncSession, published: int) -> None:
        # A short batch took every visible row, so only a full one needs counting; counting a
        # churning table costs, so under a burst the count is taken every few seconds.
        if published < self.batch_size:
            OUTBOX_BACKLOG.set(0)
        elif time.monotonic() - self._counted_at >= BACKLOG_COUNT_SECONDS:
            self._counted_at = time.monotonic()
            OUTBOX_BACKLOG.set(
                await session.scalar(select(func.count()).select_from(outbox_table)) or 0
            )


def _age(created_at: datetime, now: datetime) -> float:
    # SQLite hands back the stored UTC moment without its offset
    moment = created_at if created_at.tzinfo else created_at.replace(tzinfo=UTC)
    return max(0.0, (now - moment).total_seconds())
