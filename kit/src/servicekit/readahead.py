"""A Kafka consumer that takes records off the client as soon as they are fetched.

aiokafka leaves out of its next fetch every partition whose fetched records still wait for the
application, and sends no new fetch to a broker while one is in flight; that fetch may wait
`fetch_max_wait_ms` (500 ms) on partitions that get nothing. A consumer that asks for its next
batch only when it has handled the last one therefore picks up what arrived meanwhile up to half
a second late, at every hop of a flow. Here one task only moves fetched records into a bounded
queue, so every fetch asks for every partition, and another hands the queue to `handle` in
batches. Offsets are committed explicitly, after the last record handled, never at the client's
read position, which is ahead of it. The queue is bounded in records and in bytes (it may pass
its bytes by one fetch). While it is full the client's partitions are paused: aiokafka would
otherwise go on fetching every partition none of whose records it holds, and for a service
reading many partners' topics buffer most of a burst.

Records of a partition are handled in offset order, and at least once:
- a failed batch is read again: the partitions it and the queue held are sought back to their
  first record not handled;
- when the group takes partitions away, the batch in hand finishes and commits first, and what
  the queue holds of those partitions is dropped (their next owner reads it from the committed
  offset);
- on stop, what was fetched is handled and committed, within the grace period.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, Protocol

from aiokafka import ConsumerRebalanceListener, ConsumerRecord, TopicPartition
from aiokafka.errors import CommitFailedError

log = logging.getLogger(__name__)

Handle = Callable[[Sequence[ConsumerRecord[Any, Any]]], Awaitable[None]]


class Consumer(Protocol):
    """What is used of aiokafka's AIOKafkaConsumer."""

    def subscribe(self, topics: Sequence[str], listener: ConsumerRebalanceListener) -> None: ...
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def getmany(
        self, *, timeout_ms: int, max_records: int | None
    ) -> dict[TopicPartition, list[ConsumerRecord[Any, Any]]]: ...
    async def commit(self, offsets: dict[TopicPartition, int]) -> None: ...
    def seek(self, partition: TopicPartition, offset: int) -> None: ...
    def pause(self, *partitions: TopicPartition) -> None: ...
    def resume(self, *partitions: TopicPartition) -> None: ...
    def paused(self) -> set[TopicPartition]: ...
    def assignment(self) -> set[TopicPartition]: ...
    async def topics(self) -> set[str]: ...


class ReadAheadConsumer(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(
        self,
        consumer: Consumer,
        topics: Sequence[str],
        handle: Handle,
        *,
        max_batch: int,
        max_queued: int,
        max_queued_bytes: int | None = None,
        linger_seconds: float = 0.0,
        retry_seconds: float = 1.0,
    ) -> None:
        self.consumer = consumer
        self.topics = list(topics)
        self.handle = handle
        self.max_batch = max_batch
        self.max_queued = max(max_queued, max_batch)
        self.max_queued_bytes = max_queued_bytes or 1 << 62
        self.linger_seconds = linger_seconds
        self.retry_seconds = retry_seconds
        self._queue: deque[ConsumerRecord[Any, Any]] = deque()
        self._queued_bytes = 0
        self._arrived = asyncio.Event()  # the queue holds records
        self._full = asyncio.Event()  # the queue holds a batch
        self._room = asyncio.Event()  # the queue may take more
        self._room.set()
        self._idle = asyncio.Event()  # no batch in hand
        self._idle.set()
        self._fetching: asyncio.Task[None] | None = None
        self._handling: asyncio.Task[None] | None = None
        self._stopping = False

    async def start(self) -> None:
        self.consumer.subscribe(self.topics, listener=self)
        await self.consumer.start()
        self._stopping = False
        self._fetching = asyncio.create_task(self._fetch(), name="kafka-fetch")
        self._handling = asyncio.create_task(self._handle(), name="kafka-handle")

    async def stop(self, grace_seconds: float) -> None:
        """Stop fetching, handle and commit what was fetched (for at most `grace_seconds`),
        then leave the group."""
        self._stopping = True
        if self._fetching is not None:
            self._fetching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._fetching
        if self._handling is not None:
            self._arrived.set()
            try:
                await asyncio.wait_for(self._handling, grace_seconds)
            except TimeoutError:
                log.warning("stopped with %d fetched records not handled", len(self._queue))
        await self.consumer.stop()

    async def ping(self) -> int:
        """How many topics the cluster shows this consumer: it reaches a broker."""
        return len(await self.consumer.topics())

    async def _fetch(self) -> None:
        while True:
            if not self._room.is_set():
                self.consumer.pause(*self.consumer.assignment())
                await self._room.wait()
                self.consumer.resume(*self.consumer.paused())
            try:
                fetched = await self.consumer.getmany(
                    timeout_ms=1000, max_records=self.max_queued - len(self._queue)
                )
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("fetching failed; trying again")
                await asyncio.sleep(self.retry_seconds)
                continue
            # Nothing may run between the fetch and the queueing: a rebalance or a rewind sees
            # every record the client has handed out in the queue.
            for records in fetched.values():
                self._queue.extend(records)
                self._queued_bytes += sum(map(_size, records))
            if self._queue:
                self._arrived.set()
            self._measure_room()

    async def _handle(self) -> None:
        while True:
            await self._arrived.wait()
            if not self._queue:
                self._arrived.clear()
                if self._stopping:
                    return
                continue
            if self.linger_seconds and not self._stopping and len(self._queue) < self.max_batch:
                # a batch's fixed costs (a transaction, an offset commit) are paid by more records
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._full.wait(), self.linger_seconds)
                if not self._queue:  # the group took the partitions meanwhile
                    continue
            batch = [self._queue.popleft() for _ in range(min(self.max_batch, len(self._queue)))]
            self._queued_bytes -= sum(map(_size, batch))
            self._measure_room()
            self._idle.clear()
            try:
                await self.handle(batch)
                await self._commit(batch)
            except Exception:
                log.exception("a batch of %d records failed; reading it again", len(batch))
                self._rewind(batch)
                await asyncio.sleep(self.retry_seconds)
            finally:
                self._idle.set()

    def _measure_room(self) -> None:
        room = len(self._queue) < self.max_queued and self._queued_bytes < self.max_queued_bytes
        for event, reached in (
            (self._room, room),
            (self._full, len(self._queue) >= self.max_batch or not room),
        ):
            if reached:
                event.set()
            else:
                event.clear()

    async def _commit(self, batch: Sequence[ConsumerRecord[Any, Any]]) -> None:
        offsets = {TopicPartition(r.topic, r.partition): r.offset + 1 for r in batch}
        try:
            await self.consumer.commit(offsets)
        except CommitFailedError as error:
            # The group moved the partitions on: their next owner reads the batch again, and
            # the inbox keeps its effects single.
            log.warning("offsets of a handled batch not committed: %s", error)

    def _rewind(self, batch: Sequence[ConsumerRecord[Any, Any]]) -> None:
        first: dict[TopicPartition, int] = {}
        for record in (*batch, *self._queue):
            tp = TopicPartition(record.topic, record.partition)
            first[tp] = min(first.get(tp, record.offset), record.offset)
        self._queue.clear()
        self._queued_bytes = 0
        self._measure_room()
        for tp, offset in first.items():
            self.consumer.seek(tp, offset)

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        gone = set(revoked)
        if gone:
            kept = [r for r in self._queue if TopicPartition(r.topic, r.partition) not in gone]
            self._queue = deque(kept)
            self._queued_bytes = sum(map(_size, kept))
            self._measure_room()
        # The batch in hand commits while the partitions are still this member's.
        await self._idle.wait()

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        if not self._room.is_set():
            self.consumer.pause(*assigned)


def _size(record: ConsumerRecord[Any, Any]) -> int:
    value_bytes: int = record.serialized_value_size
    key_bytes: int = record.serialized_key_size
    return max(value_bytes, 0) + max(key_bytes, 0)  # -1 for a null value or key
