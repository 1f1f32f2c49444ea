"""A burst for the benchmark: messages published at once, and for each the time until the
service's first answer of a kind reached Kafka (matched by correlation id)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import localrun
import measure
import streams

from gonghui_contracts.access import Partner
from servicekit.topics_admin import reader_from_start


async def first_seen(
    topic: str, event_type: str, expected: set[str], timeout: float
) -> dict[str, float]:
    """When the first `event_type` of each expected correlation id reached `topic`."""
    consumer, _ = await reader_from_start(localrun.KAFKA, topic)
    found: dict[str, float] = {}
    deadline = time.monotonic() + timeout
    try:
        while len(found) < len(expected) and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500, max_records=10000)
            for records in batches.values():
                for record in records:
                    event = json.loads(record.value)
                    correlation = event["correlation_id"]
                    if (
                        event["event_type"] == event_type
                        and correlation in expected
                        and correlation not in found
                    ):
                        found[correlation] = record.timestamp / 1000
    finally:
        await consumer.stop()
    return found


async def count_events(topic: str, event_type: str, expected: int, timeout: float) -> int:
    """How many `event_type` events `topic` holds, read until `expected` are there or `timeout`."""
    consumer, _ = await reader_from_start(localrun.KAFKA, topic)
    seen = 0
    deadline = time.monotonic() + timeout
    try:
        while seen < expected and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500, max_records=10000)
            for records in batches.values():
                seen += sum(json.loads(r.value)["event_type"] == event_type for r in records)
    finally:
        await consumer.stop()
    return seen


async def run(
    service: str,
    family: str,
    messages: dict[Partner, list[tuple[str, bytes]]],
    answer: tuple[str, str],
    timeout: float,
) -> dict[str, Any]:
    """Publish each partner's `messages` on its own topic of `family`, all at once; `answer` is
    the (topic, event type) that says the service handled one. Returns how many were handled,
    how long all took, the rate, the latencies and the service's consumed events per second."""
    before = measure.counters(service)
    started = time.time()
    published: dict[str, float] = {}
    for sent in await asyncio.gather(
        *(streams.publish_timed(family, batch, sender) for sender, batch in messages.items())
    ):
        published |= sent
    done = await first_seen(*answer, set(published), timeout)
    drained = max(done.values(), default=time.time()) - started
    latencies = sorted(done[k] - published[k] for k in done)
    return {
        "handled": len(done),
        "drain_seconds": round(drained, 2),
        "per_second": round(len(done) / drained, 1) if drained > 0 else None,
        "latency_seconds": measure.percentiles(latencies),
        "events_per_second": round((measure.counters(service) - before) / drained, 1),
    }
