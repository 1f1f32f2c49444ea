from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from aiokafka.errors import (
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    TopicAuthorizationFailedError,
)
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.producer.message_accumulator import BatchBuilder
from aiokafka.record.default_records import DefaultRecordBatch
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider

from gonghui_contracts import EventPayload
from servicekit import OutboxRelay, OutgoingRecord, UnitOfWork, parking
from servicekit.outbox import KafkaPublisher
from servicekit.testing import RecordingPublisher, outbox_rows, sqlite_sessions


class Note(EventPayload):
    EVENT_TYPE = "test.note"
    n: int


@pytest.fixture
async def sessions(tmp_path: Path) -> Any:
    async with sqlite_sessions(tmp_path) as made:
        yield made


async def commit_notes(uow: UnitOfWork, *numbers: int) -> None:
    async with uow() as unit:
        for n in numbers:
            unit.emit(Note(n=n), key=f"k{n}", topic="test.notes.v1")


async def test_committed_events_are_published_in_order_and_then_removed(sessions: Any) -> None:
    publisher = RecordingPublisher()
    relay = OutboxRelay(sessions, publisher, batch_size=2)
    await commit_notes(UnitOfWork(sessions, "test"), 1, 2, 3)
    assert await relay.drain() == 3
    assert [json.loads(r.value)["data"]["n"] for r in publisher.published] == [1, 2, 3]
    assert [r.key for r in publisher.published] == [b"k1", b"k2", b"k3"]
    assert await outbox_rows(sessions) == []


async def test_nothing_is_published_from_a_transaction_that_rolled_back(sessions: Any) -> None:
    publisher = RecordingPublisher()
    uow = UnitOfWork(sessions, "test")

    async def failing_change() -> None:
        async with uow() as unit:
            unit.emit(Note(n=1), key="k", topic="test.notes.v1")
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        await failing_change()
    assert await OutboxRelay(sessions, publisher).drain() == 0
    assert publisher.published == []


async def test_a_failed_publish_keeps_the_rows_for_the_next_pass(sessions: Any) -> None:
    publisher = RecordingPublisher()
    publisher.fail_next = 1
    relay = OutboxRelay(sessions, publisher)
    await commit_notes(UnitOfWork(sessions, "test"), 1)
    with pytest.raises(ConnectionError):
        await relay.relay_once()
    assert len(await outbox_rows(sessions)) == 1
    assert await relay.relay_once() == 1
    assert len(publisher.published) == 1


async def test_the_trace_context_of_the_change_travels_with_the_event(sessions: Any) -> None:
    provider = TracerProvider()
    publisher = RecordingPublisher()
    with provider.get_tracer("t").start_as_current_span("request") as span:
        await commit_notes(UnitOfWork(sessions, "test"), 1)
        trace_id = format(span.get_span_context().trace_id, "032x")
    stored = json.loads((await outbox_rows(sessions))[0].headers)
    assert trace_id in stored["traceparent"]
    await OutboxRelay(sessions, publisher).drain()
    assert trace.get_current_span().get_span_context().is_valid is False
    assert publisher.published[0].headers["traceparent"].split("-")[1] == trace_id


async def test_the_running_relay_publishes_soon_after_a_commit(sessions: Any) -> None:
    import asyncio

    publisher = RecordingPublisher()
    relay = OutboxRelay(sessions, publisher, sweep_seconds=60)
    relay.start()
    await commit_notes(UnitOfWork(sessions, "test", on_commit=relay.wake), 1)
    for _ in range(100):
        if publisher.published:
            break
        await asyncio.sleep(0.02)
    await relay.stop()
    assert len(publisher.published) == 1


async def test_a_row_kafka_refuses_is_parked_and_the_rows_around_it_go_out_once(
    sessions: Any,
) -> None:
    publisher = RecordingPublisher(
        refuse=lambda r: (
            MessageSizeTooLargeError() if json.loads(r.value)["data"]["n"] == 5 else None
        )
    )
    relay = OutboxRelay(sessions, publisher, batch_size=4)
    await commit_notes(UnitOfWork(sessions, "test"), *range(1, 11))
    assert await relay.drain() == 10
    sent = [json.loads(r.value)["data"]["n"] for r in publisher.published]
    assert sent == [1, 2, 3, 4, 6, 7, 8, 9, 10]
    assert await outbox_rows(sessions) == []
    [row] = await parking.parked(sessions)
    assert row.topic == "test.notes.v1"
    assert "MessageSizeTooLargeError" in row.reason


async def test_a_row_larger_than_kafka_takes_is_parked_without_being_sent(sessions: Any) -> None:
    publisher = RecordingPublisher()
    relay = OutboxRelay(sessions, publisher, max_record_bytes=2_000)
    async with UnitOfWork(sessions, "test")() as unit:
        unit.emit(Note(n=1), key="k1", topic="test.notes.v1")
        unit.stage(OutgoingRecord("big", "test.notes.v1", b"k", b"x" * 5_000))
        unit.emit(Note(n=2), key="k2", topic="test.notes.v1")
    assert await relay.drain() == 3
    assert [r.message_id for r in publisher.published if r.message_id == "big"] == []
    assert len(publisher.published) == 2
    [row] = await parking.parked(sessions)
    assert (row.message_id, row.size) == ("big", 5_000)
    assert "more than the 2000" in row.reason


async def test_acknowledged_rows_are_removed_even_when_another_fails_for_the_moment(
    sessions: Any,
) -> None:
    flaky = {3}
    publisher = RecordingPublisher(
        refuse=lambda r: ConnectionError() if json.loads(r.value)["data"]["n"] in flaky else None
    )
    relay = OutboxRelay(sessions, publisher)
    await commit_notes(UnitOfWork(sessions, "test"), 1, 2, 3, 4)
    with pytest.raises(ConnectionError):
        await relay.relay_once()
    assert [json.loads(r.value)["data"]["n"] for r in await outbox_rows(sessions)] == [3]
    flaky.clear()
    assert await relay.relay_once() == 1
    sent = [json.loads(r.value)["data"]["n"] for r in publisher.published]
    assert sorted(sent) == [1, 2, 3, 4]  # each once
    assert await parking.parked(sessions) == []


async def test_an_operator_retries_or_drops_parked_rows(sessions: Any) -> None:
    refusing = True
    publisher = RecordingPublisher(
        refuse=lambda _: TopicAuthorizationFailedError() if refusing else None
    )
    relay = OutboxRelay(sessions, publisher)
    await commit_notes(UnitOfWork(sessions, "test"), 1, 2)
    assert await relay.drain() == 2
    first, second = await parking.parked(sessions)
    refusing = False  # the ACL was fixed
    assert await parking.retry(sessions, [first.seq]) == 1
    assert await parking.drop(sessions, [second.seq]) == 1
    assert await relay.drain() == 1
    assert [json.loads(r.value)["data"]["n"] for r in publisher.published] == [1]
    assert await parking.parked(sessions) == []


async def test_events_written_before_the_last_statement_are_written_once(sessions: Any) -> None:
    woken: list[bool] = []
    uow = UnitOfWork(sessions, "test", on_commit=lambda: woken.append(True))
    async with uow() as unit:
        unit.emit(Note(n=1), key="k1", topic="test.notes.v1")
        unit.emit(Note(n=2), key="k2", topic="test.notes.v1")
        await unit.write_events()
        unit.emit(Note(n=3), key="k3", topic="test.notes.v1")
    assert [json.loads(r.value)["data"]["n"] for r in await outbox_rows(sessions)] == [1, 2, 3]
    assert woken == [True]


async def test_the_relay_measures_how_long_events_waited_to_be_published(sessions: Any) -> None:
    import asyncio

    from servicekit.metrics import OUTBOX_LAG, OUTBOX_RELAY_LAG

    def waited() -> tuple[float, float]:
        [sample] = [
            s
            for metric in OUTBOX_RELAY_LAG.collect()
            for s in metric.samples
            if s.name.endswith("_count")
        ]
        [total] = [
            s.value
            for metric in OUTBOX_RELAY_LAG.collect()
            for s in metric.samples
            if s.name.endswith("_sum")
        ]
        return sample.value, total

    count, total = waited()
    relay = OutboxRelay(sessions, RecordingPublisher(), batch_size=2)
    await commit_notes(UnitOfWork(sessions, "test"), 1, 2, 3)
    await asyncio.sleep(0.2)
    assert await relay.relay_once() == 2
    assert OUTBOX_LAG._value.get() >= 0.2  # the oldest row waited that long when taken
    after_count, after_total = waited()
    assert after_count == count + 2
    assert after_total - total >= 0.4  # two events, each 0.2 s or more
    await relay.drain()
    assert await relay.relay_once() == 0
    assert OUTBOX_LAG._value.get() == 0.0


class BatchingProducer:
    """Stands in for aiokafka's producer where the publisher uses it: keeps each batch it is
    handed, as (topic, partition, keys), and refuses the first batch for `refuse_partition`
    before it leaves (a moment's full accumulator, say)."""

    def __init__(self, batch_bytes: int = 16_384, refuse_partition: int | None = None) -> None:
        self.batch_bytes = batch_bytes
        self.refuse_partition = refuse_partition
        self.batches: list[tuple[str, int, list[bytes]]] = []

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def partitions_for(self, topic: str) -> set[int]:
        return {0, 1, 2}

    def create_batch(self) -> BatchBuilder:
        return BatchBuilder(self.batch_bytes, 0)

    async def send_batch(self, batch: BatchBuilder, topic: str, *, partition: int) -> Any:
        if partition == self.refuse_partition:
            self.refuse_partition = None
            raise KafkaTimeoutError()
        records = DefaultRecordBatch(bytes(batch._build()))  # the bytes the broker would get
        self.batches.append((topic, partition, [r.key for r in records]))
        acknowledged = asyncio.get_running_loop().create_future()
        acknowledged.set_result(None)
        return acknowledged


def outgoing(keys: list[str]) -> list[OutgoingRecord]:
    return [
        OutgoingRecord(f"m{n}", "test.notes.v1", key.encode(), b"x" * 100, {"h": "v"})
        for n, key in enumerate(keys)
    ]


async def test_the_publisher_sends_a_batch_a_partition_each_key_where_kafka_would_put_it() -> None:
    producer = BatchingProducer()
    publisher = KafkaPublisher(lambda: producer, topic_prefix="p.")
    keys = [f"k{n % 7}" for n in range(60)]
    assert await publisher.publish(outgoing(keys)) == [None] * 60
    assert len(producer.batches) == len({p for _, p, _ in producer.batches})  # one a partition
    for topic, partition, sent in producer.batches:
        assert topic == "p.test.notes.v1"
        assert sent == [
            k.encode() for k in keys if DefaultPartitioner()(k.encode(), [0, 1, 2], []) == partition
        ]


async def test_a_full_batch_goes_and_the_partitions_records_keep_their_order() -> None:
    producer = BatchingProducer(batch_bytes=1_000)
    publisher = KafkaPublisher(lambda: producer)
    keys = ["same"] * 30
    assert await publisher.publish(outgoing(keys)) == [None] * 30
    assert len(producer.batches) > 1
    assert [k for _, _, sent in producer.batches for k in sent] == [b"same"] * 30
    assert {p for _, p, _ in producer.batches} == {DefaultPartitioner()(b"same", [0, 1, 2], [])}


async def test_records_refused_before_they_left_fail_and_hold_back_their_partition_only() -> None:
    refused = DefaultPartitioner()(b"k0", [0, 1, 2], [])
    producer = BatchingProducer(batch_bytes=1_000, refuse_partition=refused)
    publisher = KafkaPublisher(lambda: producer)
    keys = [f"k{n % 5}" for n in range(40)]
    results = await publisher.publish(outgoing(keys))
    # a later batch of the refused partition would have been taken: it must not overtake
    for key, result in zip(keys, results, strict=True):
        fails = DefaultPartitioner()(key.encode(), [0, 1, 2], []) == refused
        assert isinstance(result, KafkaTimeoutError) if fails else result is None
    assert refused not in {p for _, p, _ in producer.batches}


async def test_a_record_larger_than_a_request_fails_alone() -> None:
    producer = BatchingProducer()
    publisher = KafkaPublisher(lambda: producer, max_request_size=500)
    records = outgoing(["a", "b"])
    records.insert(1, OutgoingRecord("big", "test.notes.v1", b"a", b"x" * 600))
    first, big, last = await publisher.publish(records)
    assert (first, last) == (None, None)
    assert isinstance(big, MessageSizeTooLargeError)
    assert [k for _, _, sent in producer.batches for k in sent] == [b"a", b"b"]
