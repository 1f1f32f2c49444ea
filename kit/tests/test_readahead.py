"""The read-ahead consumer: fetching runs ahead of handling, offsets follow handling."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from typing import Any

import pytest
from aiokafka import ConsumerRecord, TopicPartition

from servicekit.readahead import ReadAheadConsumer
from servicekit.testing import InMemoryConsumer

A0 = TopicPartition("a", 0)
A1 = TopicPartition("a", 1)


class Partitions(InMemoryConsumer):
    def append(self, tp: TopicPartition, count: int) -> None:
        """`count` more records, each valued "partition:offset"."""
        start = len(self.logs.get(tp, []))
        for offset in range(start, start + count):
            self.publish(tp.topic, f"{tp.partition}:{offset}".encode(), partition=tp.partition)


class Handler:
    """Records what it is handed; can be held, or made to fail once."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.release = asyncio.Event()
        self.release.set()
        self.holding = asyncio.Event()
        self.fail_next = False

    async def __call__(self, batch: Sequence[ConsumerRecord[Any, Any]]) -> None:
        self.batches.append([r.value.decode() for r in batch])
        self.holding.set()
        await self.release.wait()
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("database unreachable")

    def handled(self) -> list[str]:
        return [value for batch in self.batches for value in batch]


def reader(
    partitions: Partitions, handler: Handler, *, max_batch: int = 3, **options: Any
) -> ReadAheadConsumer:
    options.setdefault("max_queued", 2 * max_batch)
    return ReadAheadConsumer(
        partitions, ["a"], handler, max_batch=max_batch, retry_seconds=0.01, **options
    )


def values(tp: TopicPartition, offsets: Iterable[int]) -> list[str]:
    return [f"{tp.partition}:{n}" for n in offsets]


async def test_records_are_handled_in_offset_order_and_committed_after_the_last_handled() -> None:
    partitions, handler = Partitions(), Handler()
    partitions.append(A0, 5)
    partitions.append(A1, 2)
    consumer = reader(partitions, handler)
    await consumer.start()
    await partitions.until(lambda: partitions.committed == {A0: 5, A1: 2})
    await consumer.stop(grace_seconds=1)

    assert all(len(batch) <= 3 for batch in handler.batches)
    handled = handler.handled()
    assert [v for v in handled if v.startswith("0:")] == values(A0, range(5))
    assert [v for v in handled if v.startswith("1:")] == values(A1, range(2))
    for commit in partitions.commits:  # never past what was handled by then
        assert all(offset <= partitions.position[tp] for tp, offset in commit.items())


async def test_fetching_runs_ahead_of_a_batch_in_hand_to_the_queues_bound_then_pauses() -> None:
    partitions, handler = Partitions(), Handler()
    handler.release.clear()
    partitions.append(A0, 2)
    consumer = reader(partitions, handler, max_batch=2, max_queued=4)
    await consumer.start()
    await asyncio.wait_for(handler.holding.wait(), 5)
    partitions.append(A0, 10)

    # the batch in hand holds offsets 0-1; the client has been read to the queue's bound
    await partitions.until(lambda: partitions.position[A0] == 2 + 4)
    assert partitions.committed == {}
    # and fetches nothing more into its own buffers, not even for partitions assigned meanwhile
    await partitions.until(lambda: partitions.paused() == {A0})
    assert partitions.listener is not None
    await partitions.listener.on_partitions_assigned({A1})
    assert partitions.paused() == {A0, A1}
    handler.release.set()
    await partitions.until(lambda: partitions.committed.get(A0) == 12)
    assert partitions.paused() == set()
    await consumer.stop(grace_seconds=1)

    assert handler.handled() == values(A0, range(12))
    assert partitions.commits[0] == {A0: 2}


async def test_fetching_stops_while_the_queue_holds_its_bytes() -> None:
    partitions, handler = Partitions(), Handler()
    handler.release.clear()
    partitions.append(A0, 2)
    consumer = reader(partitions, handler, max_batch=2, max_queued=100, max_queued_bytes=10)
    await consumer.start()
    await asyncio.wait_for(handler.holding.wait(), 5)
    partitions.append(A0, 3)  # 3 bytes each: "0:2" ... "0:4"
    await partitions.until(lambda: partitions.position[A0] == 5)
    partitions.append(A0, 3)  # the queue holds 9 bytes: room for one more fetch
    await partitions.until(lambda: partitions.position[A0] == 8)
    partitions.append(A0, 3)
    await asyncio.sleep(0.05)
    assert partitions.position[A0] == 8  # 18 bytes queued: no fetch until the handler takes some

    handler.release.set()
    await partitions.until(lambda: partitions.committed.get(A0) == 11)
    await consumer.stop(grace_seconds=1)
    assert handler.handled() == values(A0, range(11))


async def test_a_failed_batch_is_read_again_from_its_first_record() -> None:
    partitions, handler = Partitions(), Handler()
    handler.fail_next = True
    partitions.append(A0, 4)
    partitions.append(A1, 1)
    consumer = reader(partitions, handler, max_batch=2)
    await consumer.start()
    await partitions.until(lambda: partitions.committed == {A0: 4, A1: 1})
    await consumer.stop(grace_seconds=1)

    failed, retried, *_ = handler.batches
    assert retried == failed
    assert (A0, 0) in partitions.seeks
    again = handler.handled()[len(failed) :]
    assert [v for v in again if v.startswith("0:")] == values(A0, range(4))
    assert [v for v in again if v.startswith("1:")] == values(A1, range(1))


async def test_partitions_taken_away_wait_for_the_batch_in_hand_and_lose_what_is_queued() -> None:
    partitions, handler = Partitions(), Handler()
    handler.release.clear()
    partitions.append(A0, 6)
    partitions.append(A1, 6)
    consumer = reader(partitions, handler, max_batch=2, max_queued=12)
    await consumer.start()
    await asyncio.wait_for(handler.holding.wait(), 5)
    await partitions.until(lambda: partitions.position == {A0: 6, A1: 6})
    in_hand = list(handler.batches[0])
    assert partitions.listener is not None

    revoking = asyncio.create_task(partitions.listener.on_partitions_revoked({A0}))
    commits_at_revoke: list[dict[TopicPartition, int]] = []
    revoking.add_done_callback(lambda _: commits_at_revoke.extend(partitions.commits))
    await asyncio.sleep(0.05)
    assert not revoking.done()  # the batch in hand is still being handled
    handler.release.set()
    await revoking
    await partitions.until(lambda: partitions.committed.get(A1) == 6)
    await consumer.stop(grace_seconds=1)

    # the batch in hand finished and committed before the partition went
    assert commits_at_revoke[0] == {
        TopicPartition("a", int(v.split(":")[0])): int(v.split(":")[1]) + 1 for v in in_hand
    }
    handled_after = handler.handled()[len(in_hand) :]
    assert not any(v.startswith("0:") for v in handled_after)
    assert [v for v in handled_after if v.startswith("1:")] == [
        v for v in values(A1, range(6)) if v not in in_hand
    ]


async def test_stopping_handles_and_commits_what_was_fetched_before_leaving_the_group() -> None:
    partitions, handler = Partitions(), Handler()
    handler.release.clear()
    partitions.append(A0, 5)
    consumer = reader(partitions, handler, max_batch=2, max_queued=6)
    await consumer.start()
    await partitions.until(lambda: partitions.position[A0] == 5)
    stopping = asyncio.create_task(consumer.stop(grace_seconds=2))
    handler.release.set()
    await stopping

    assert handler.handled() == values(A0, range(5))
    assert partitions.committed == {A0: 5}
    assert partitions.stopped_after_commits == len(partitions.commits)


async def test_a_batch_lingers_for_records_close_behind_its_first() -> None:
    partitions, handler = Partitions(), Handler()
    consumer = reader(partitions, handler, max_batch=10, linger_seconds=0.5)
    await consumer.start()
    partitions.append(A0, 3)
    await asyncio.sleep(0.05)
    partitions.append(A0, 7)
    await partitions.until(lambda: partitions.committed.get(A0) == 10)
    await consumer.stop(grace_seconds=1)

    assert handler.batches == [values(A0, range(10))]


@pytest.mark.parametrize("linger", [0.0, 0.05])
async def test_stop_with_nothing_fetched_leaves_at_once(linger: float) -> None:
    partitions, handler = Partitions(), Handler()
    consumer = reader(partitions, handler, linger_seconds=linger)
    await consumer.start()
    async with asyncio.timeout(1):
        await consumer.stop(grace_seconds=5)
    assert partitions.stopped_after_commits == 0
    assert await consumer.ping() == 0
