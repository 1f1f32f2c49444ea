"""The runtime reads all of a service's topics with one consumer and hands each its records."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from faststream.kafka import TestKafkaBroker

from gonghui_contracts import Catalog, Envelope, EventPayload
from servicekit import KitSettings, Runtime, Subscription, Unit, db


class Filed(EventPayload):
    EVENT_TYPE = "test.filed"
    n: int


async def test_one_consumer_reads_every_subscribed_topic_for_its_own_handler(
    tmp_path: Path,
) -> None:
    settings = KitSettings(
        service_name="probe",
        database_url=f"sqlite+aiosqlite:///{tmp_path}/probe.db",
        kafka_topic_prefix="it.",
        pii_allow_development_key=True,
    )
    runtime = Runtime(settings, catalog=Catalog([Filed]))
    async with runtime.engine.begin() as connection:
        await connection.run_sync(db.kit_metadata.create_all)
    seen: list[tuple[str, int]] = []

    def handler(topic: str) -> Any:
        async def handle(unit: Unit, event: Envelope[Any]) -> None:
            seen.append((topic, event.data.n))

        return handle

    for topic in ("a.filings.v1", "b.referrals.v1"):
        runtime.subscribe(Subscription(topic, handler(topic)))
    with pytest.raises(ValueError, match="subscribed twice"):
        runtime.subscribe(Subscription("a.filings.v1", handler("again")))
    runtime._consume_subscribed_topics()

    assert [s.topic_names for s in runtime.broker.subscribers] == [
        ["it.a.filings.v1", "it.b.referrals.v1"]
    ]
    async with TestKafkaBroker(runtime.broker) as broker:
        for n, topic in enumerate(["b.referrals.v1", "a.filings.v1", "b.referrals.v1"]):
            message = Envelope.wrap(Filed(n=n), key=f"k{n}", producer="t").to_bytes()
            await broker.publish(message, topic=f"it.{topic}", key=f"k{n}".encode())
    await runtime.engine.dispose()

    assert sorted(seen) == [("a.filings.v1", 1), ("b.referrals.v1", 0), ("b.referrals.v1", 2)]
