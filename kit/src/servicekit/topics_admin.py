"""Creating the registry's topics on a broker."""

from __future__ import annotations

from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from gonghui_contracts import TOPICS, TopicSpec
from gonghui_contracts.access import Partner, is_partner_family, placed
from gonghui_contracts.topics import DLQ_SUFFIX
from servicekit.kafka_access import client_options


def new_topics(
    specs: Sequence[TopicSpec],
    *,
    replication: int = 1,
    prefix: str = "",
    partners: Sequence[Partner] = (),
    partner_partitions: int | None = None,
) -> list[NewTopic]:
    """The registry's topics as the broker makes them (a partner family as each partner's own
    topic of it, with `partner_partitions` if given), and their dead-letter twins."""
    topics = []
    for spec in specs:
        for name, twin in placed(spec, partners):
            named = prefix + name
            partitions = spec.partitions
            if partner_partitions and is_partner_family(spec):
                partitions = partner_partitions
            topics.append(
                NewTopic(named, partitions, replication, topic_configs=spec.kafka_config())
            )
            if twin:
                dlq = named + DLQ_SUFFIX
                topics.append(NewTopic(dlq, 1, replication, topic_configs=spec.dlq_config()))
    return topics


async def ensure_partner_topics(bootstrap: str, partner: Partner) -> list[str]:
    """Create the partner's topics that are missing; returns their names."""
    families = [spec for spec in TOPICS if is_partner_family(spec)]
    return await ensure_topics(bootstrap, families, partners=[partner])


async def existing_topics(bootstrap: str) -> set[str]:
    admin = AIOKafkaAdminClient(**client_options(bootstrap))
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()


async def ensure_topics(
    bootstrap: str,
    specs: Sequence[TopicSpec],
    *,
    replication: int = 1,
    prefix: str = "",
    partners: Sequence[Partner] = (),
    partner_partitions: int | None = None,
) -> list[str]:
    """Create the topics that are missing; returns their names. Existing topics are left alone."""
    admin = AIOKafkaAdminClient(**client_options(bootstrap))
    await admin.start()
    try:
        present = set(await admin.list_topics())
        planned = new_topics(
            specs,
            replication=replication,
            prefix=prefix,
            partners=partners,
            partner_partitions=partner_partitions,
        )
        missing = [t for t in planned if t.name not in present]
        if missing:
            await admin.create_topics(missing)
        return [t.name for t in missing]
    finally:
        await admin.close()


async def partition_count(bootstrap: str, topic: str) -> int:
    admin = AIOKafkaAdminClient(**client_options(bootstrap))
    await admin.start()
    try:
        described = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return len(described[0]["partitions"]) if described else 0


async def reader_from_start(
    bootstrap: str, *topics: str
) -> tuple[AIOKafkaConsumer, list[TopicPartition]]:
    """A started consumer, in no group, on every partition of `topics` at their beginning, and
    those partitions. The caller stops it."""
    consumer = AIOKafkaConsumer(**client_options(bootstrap), enable_auto_commit=False)
    await consumer.start()
    partitions = [
        TopicPartition(topic, p)
        for topic in topics
        for p in range(await partition_count(bootstrap, topic))
    ]
    consumer.assign(partitions)
    await consumer.seek_to_beginning(*partitions)
    return consumer, partitions
