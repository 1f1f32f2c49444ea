"""The runtime reads all of a service's topics with one consumer and hands each its records."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from aiokafka import TopicPartition

from gonghui_contracts import CATALOG, Catalog, Envelope, EventPayload
from gonghui_contracts.access import Partner
from gonghui_contracts.events import PatientDischarged
from gonghui_contracts.topics import AID_INJURY_REPORTS
from gonghui_contracts.values import PartnerKind
from servicekit import KitSettings, Runtime, Subscription, Unit, db, each
from servicekit.partners import write_partners
from servicekit.testing import InMemoryConsumer


class Filed(EventPayload):
    EVENT_TYPE = "test.filed"
    n: int


async def probe(
    tmp_path: Path, catalog: Catalog, **settings: Any
) -> tuple[Runtime, InMemoryConsumer]:
    """A runtime on a new SQLite file with the kit's tables, its consumer reading from memory."""
    kafka = InMemoryConsumer()
    runtime = Runtime(
        KitSettings(
            service_name="probe",
            database_url=f"sqlite+aiosqlite:///{tmp_path}/probe.db",
            pii_allow_development_key=True,
            **settings,
        ),
        catalog=catalog,
        kafka_consumer=lambda: kafka,
    )
    async with runtime.engine.begin() as connection:
        await connection.run_sync(db.kit_metadata.create_all)
    return runtime, kafka


async def test_one_consumer_reads_every_subscribed_topic_for_its_own_handler(
    tmp_path: Path,
) -> None:
    runtime, kafka = await probe(tmp_path, Catalog([Filed]), kafka_topic_prefix="it.")
    seen: list[tuple[str, int]] = []

    def handler(topic: str) -> Any:
        async def handle(unit: Unit, event: Envelope[Any]) -> None:
            seen.append((topic, event.data.n))

        return handle

    for topic in ("a.filings.v1", "b.referrals.v1"):
        runtime.subscribe(Subscription(topic, on={Filed: each(handler(topic))}))
    with pytest.raises(ValueError, match="subscribed twice"):
        runtime.subscribe(Subscription("a.filings.v1", on={Filed: each(handler("again"))}))
    reader = runtime._consume_subscribed_topics()

    for n, topic in enumerate(["b.referrals.v1", "a.filings.v1", "b.referrals.v1", "c.other.v1"]):
        message = Envelope.wrap(Filed(n=n), key=f"k{n}", producer="t").to_bytes()
        kafka.publish(f"it.{topic}", message, key=f"k{n}".encode())
    await reader.start()
    await kafka.until_all_committed()
    await reader.stop(grace_seconds=5)
    await runtime.engine.dispose()

    assert kafka.subscribed == {"it.a.filings.v1", "it.b.referrals.v1"}
    assert kafka.committed == {
        TopicPartition("it.a.filings.v1", 0): 1,
        TopicPartition("it.b.referrals.v1", 0): 2,
    }

    assert sorted(seen) == [("a.filings.v1", 1), ("b.referrals.v1", 0), ("b.referrals.v1", 2)]


async def test_an_intake_family_is_read_from_each_partner_of_the_directory(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "partners.json"
    write_partners(
        directory,
        [
            Partner("sz-h-001", PartnerKind.HOSPITAL),
            Partner("sz-h-002", PartnerKind.HOSPITAL),
            Partner("gz-12351", PartnerKind.HOTLINE_12351),
        ],
    )
    runtime, kafka = await probe(tmp_path, CATALOG, partners_file=directory)
    seen: list[tuple[str | None, str]] = []

    async def handle(unit: Unit, event: Envelope[Any]) -> None:
        seen.append((unit.sender.partner_id if unit.sender else None, event.data.hospital_id))

    runtime.subscribe(Subscription(AID_INJURY_REPORTS, on={PatientDischarged: each(handle)}))
    reader = runtime._consume_subscribed_topics()
    assert reader.topics == [
        "partner.aid.injury-reports.v1.sz-h-001",
        "partner.aid.injury-reports.v1.sz-h-002",
    ]
    for hospital in ("sz-h-002", "sz-h-001"):
        payload = PatientDischarged(
            report_ref="r", hospital_id=hospital, discharged_on=date(2026, 11, 30)
        )
        message = Envelope.wrap(payload, key="r", producer="t").to_bytes()
        kafka.publish(f"partner.aid.injury-reports.v1.{hospital}", message)
    await reader.start()
    await kafka.until_all_committed()
    await reader.stop(grace_seconds=5)
    await runtime.engine.dispose()

    assert seen == [("sz-h-002", "sz-h-002"), ("sz-h-001", "sz-h-001")]


async def test_readiness_asks_kafka_through_the_consumer_once_it_reads(tmp_path: Path) -> None:
    runtime, kafka = await probe(tmp_path, Catalog([Filed]))
    reach_kafka = runtime.checks()["kafka"]
    assert await reach_kafka() == "nothing to consume"

    async def ignore(unit: Unit, event: Envelope[Any]) -> None:
        return None

    runtime.subscribe(Subscription("a.filings.v1", on={Filed: each(ignore)}))
    with pytest.raises(RuntimeError, match="not consuming yet"):
        await reach_kafka()
    kafka.publish("a.filings.v1", b"{}")
    runtime.reader = runtime._consume_subscribed_topics()
    assert await reach_kafka() == 1  # the topics the cluster shows
    await runtime.engine.dispose()
