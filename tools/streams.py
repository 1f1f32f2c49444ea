"""What the demo and the benchmark need around Kafka: reading topics from the start, counting
dead letters, and publishing in spans as a partner's system would."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import localrun
from aiokafka import AIOKafkaConsumer, TopicPartition
from opentelemetry.exporter.zipkin.json import ZipkinExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from gonghui_contracts import TOPICS
from servicekit.topics_admin import reader_from_start


def producer_tracer(service_name: str) -> tuple[TracerProvider, Any]:
    """A tracer exporting to the local Zipkin as `service_name` (a partner's system)."""
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(
        BatchSpanProcessor(
            ZipkinExporter(endpoint=f"{localrun.ZIPKIN}/api/v2/spans"), max_queue_size=20000
        )
    )
    return provider, provider.get_tracer(service_name)


class TopicReader:
    """Reads a topic from its beginning, remembering where it got to."""

    def __init__(self, topic: str) -> None:
        self.topic = topic
        self.consumer: AIOKafkaConsumer | None = None

    async def __aenter__(self) -> TopicReader:
        self.consumer, _ = await reader_from_start(localrun.KAFKA, self.topic)
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self.consumer is not None
        await self.consumer.stop()

    async def poll(self) -> list[dict[str, Any]]:
        assert self.consumer is not None
        batches = await self.consumer.getmany(timeout_ms=200, max_records=5000)
        return [json.loads(record.value) for records in batches.values() for record in records]


async def dead_letters() -> int:
    """Records on every dead-letter topic of the registry."""
    consumer = AIOKafkaConsumer(bootstrap_servers=localrun.KAFKA, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(spec.dlq, 0) for spec in TOPICS]
        ends = await consumer.end_offsets(partitions)
        starts = await consumer.beginning_offsets(partitions)
        return sum(ends[p] - starts[p] for p in partitions)
    finally:
        await consumer.stop()


async def complete_trace(trace_ids: list[str], services: set[str]) -> str:
    """The Zipkin URL of the first of `trace_ids` whose trace has spans of every one of
    `services` (spans arrive in batches: this waits up to half a minute)."""
    async with httpx.AsyncClient(timeout=5) as client:
        for _ in range(30):
            for trace_id in trace_ids:
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
