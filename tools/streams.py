"""What the demo and the benchmark need around Kafka: reading topics from the start, counting
dead letters, and publishing in spans as a partner's system would."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import localrun
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from opentelemetry.propagate import inject
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind

from gonghui_contracts import topic as registry_topic
from gonghui_contracts.access import Partner, partner_topic, topic_names
from gonghui_contracts.topics import DLQ_SUFFIX
from servicekit import telemetry
from servicekit.kafka_access import client_options
from servicekit.topics_admin import reader_from_start


def producer_tracer(service_name: str) -> tuple[TracerProvider, Any]:
    """A tracer exporting to the local Zipkin as `service_name` (a partner's system)."""
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(
        BatchSpanProcessor(
            telemetry.zipkin_exporter(f"{localrun.ZIPKIN}/api/v2/spans"), max_queue_size=20000
        )
    )
    return provider, provider.get_tracer(service_name)


def own_topic(family: str, sender: Partner) -> str:
    """The sender's own topic of a partners' family."""
    return partner_topic(registry_topic(family), sender.partner_id)


async def publish_traced(
    family: str, messages: list[tuple[str, bytes]], sender: Partner
) -> dict[str, str]:
    """Publish (key, value) pairs as `sender`'s system would, on its own topic of `family`, each
    in a PRODUCER span of its own exported to Zipkin; returns the trace id of each by key."""
    topic = own_topic(family, sender)
    provider, tracer = producer_tracer(sender.partner_id)
    producer = AIOKafkaProducer(
        **localrun.partner_options(sender), enable_idempotence=True, linger_ms=5
    )
    await producer.start()
    traces: dict[str, str] = {}
    try:
        pending = []
        for key, value in messages:
            with tracer.start_as_current_span(f"send {topic}", kind=SpanKind.PRODUCER) as span:
                headers: dict[str, str] = {}
                inject(headers)
                traces[key] = format(span.get_span_context().trace_id, "032x")
                kafka_headers = [(k, v.encode()) for k, v in headers.items()]
                pending.append(
                    await producer.send(topic, value, key=key.encode(), headers=kafka_headers)
                )
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
        provider.shutdown()
    return traces


async def publish_traced_by(
    family: str, messages: dict[Partner, list[tuple[str, bytes]]]
) -> dict[str, str]:
    """Each partner's (key, value) pairs published as `publish_traced` does, all partners at
    once; the trace id of each by key."""
    traces: dict[str, str] = {}
    batches = messages.items()
    for found in await asyncio.gather(*(publish_traced(family, b, s) for s, b in batches)):
        traces |= found
    return traces


async def publish_timed(
    family: str, messages: list[tuple[str, bytes]], sender: Partner, rate: float | None = None
) -> dict[str, float]:
    """Publish (key, value) envelopes as `sender`, on its own topic of `family`, paced at `rate`
    per second if given; returns when each was sent, by its correlation id."""
    topic = own_topic(family, sender)
    producer = AIOKafkaProducer(
        **localrun.partner_options(sender), enable_idempotence=True, linger_ms=2
    )
    await producer.start()
    published: dict[str, float] = {}
    started = time.monotonic()
    try:
        pending = []
        for n, (key, value) in enumerate(messages):
            if rate:
                delay = started + n / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            published[json.loads(value)["correlation_id"]] = time.time()
            pending.append(await producer.send(topic, value, key=key.encode()))
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return published


class TopicReader:
    """Reads topics from their beginning, remembering where it got to."""

    def __init__(self, *topics: str) -> None:
        self.topics = topics
        self.consumer: AIOKafkaConsumer | None = None

    async def __aenter__(self) -> TopicReader:
        self.consumer, _ = await reader_from_start(localrun.KAFKA, *self.topics)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self.consumer is not None
        await self.consumer.stop()

    async def poll(self) -> list[dict[str, Any]]:
        assert self.consumer is not None
        batches = await self.consumer.getmany(timeout_ms=200, max_records=5000)
        return [json.loads(record.value) for records in batches.values() for record in records]


async def read_events(
    topics: list[str], expected: int | None = None, quiet: float = 3, timeout: float = 300
) -> list[dict[str, Any]]:
    """The events on `topics` from their start: until `expected` are there, or (without it)
    until none has come for `quiet` seconds; at most `timeout` seconds either way."""
    found: list[dict[str, Any]] = []
    async with TopicReader(*topics) as reader:
        deadline, silent_after = time.monotonic() + timeout, time.monotonic() + quiet
        while time.monotonic() < deadline:
            batch = await reader.poll()
            found += batch
            silent_after = time.monotonic() + quiet if batch else silent_after
            if expected is not None and len(found) >= expected:
                break
            if expected is None and time.monotonic() > silent_after:
                break
    return found


async def dead_letters() -> int:
    """Records on every dead-letter topic of the registry (of every partner's own topics)."""
    consumer = AIOKafkaConsumer(**client_options(localrun.KAFKA), enable_auto_commit=False)
    await consumer.start()
    try:
        names = topic_names(localrun.partners().values())
        partitions = [TopicPartition(name, 0) for name in names if name.endswith(DLQ_SUFFIX)]
        ends = await consumer.end_offsets(partitions)
        starts = await consumer.beginning_offsets(partitions)
        return sum(ends[p] - starts[p] for p in partitions)
    finally:
        await consumer.stop()


async def complete_trace(candidates: list[tuple[str, set[str]]]) -> str:
    """The Zipkin URL of the first trace of `candidates` (trace id, services) that has spans of
    every one of its services (spans arrive in batches: this waits up to half a minute)."""
    async with httpx.AsyncClient(timeout=5) as client:
        for _ in range(30):
            for trace_id, services in candidates:
                try:
                    response = await client.get(f"{localrun.ZIPKIN}/api/v2/trace/{trace_id}")
                except httpx.HTTPError:
                    continue
                if response.status_code == 200:
                    found = {span["localEndpoint"]["serviceName"] for span in response.json()}
                    if services <= found:
                        return f"{localrun.ZIPKIN}/zipkin/traces/{trace_id}"
            await asyncio.sleep(1)
    return "(no complete trace found in Zipkin)"


async def caught_up(group: str, topic: str) -> bool:
    """Whether consumer group `group` has processed (committed) every record now on `topic`."""
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(**client_options(localrun.KAFKA))
    consumer = AIOKafkaConsumer(**client_options(localrun.KAFKA), enable_auto_commit=False)
    await admin.start()
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(registry_topic(topic).partitions)]
        ends = await consumer.end_offsets(partitions)
        committed = await admin.list_consumer_group_offsets(group, partitions=partitions)
        return all(
            ends[p] == 0 or (p in committed and committed[p].offset >= ends[p]) for p in partitions
        )
    finally:
        await consumer.stop()
        await admin.close()
