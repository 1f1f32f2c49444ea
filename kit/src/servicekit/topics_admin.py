"""Creating the registry's topics on a broker."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from gonghui_contracts import TOPICS, TopicSpec
from gonghui_contracts.access import Partner, partner_topic
from servicekit.kafka_access import client_options


def new_topics(
    specs: Sequence[TopicSpec], replication: int = 1, prefix: str = ""
) -> list[NewTopic]:
    topics = []
    for spec in specs:
        named = replace(spec, name=prefix + spec.name)
        config = named.kafka_config()
        topics.append(NewTopic(named.name, named.partitions, replication, topic_configs=config))
        topics.append(NewTopic(named.dlq, 1, replication, topic_configs=named.dlq_config()))
    return topics


def partner_new_topics(partner: Partner, replication: int = 1) -> list[NewTopic]:
    """A partner's own topic of each family of its kind, configured as the family is, and the
    dead letters of those it writes."""
    topics = []
    for spec in TOPICS:
        if partner.kind not in spec.producers | spec.readers:
            continue
        named = replace(spec, name=partner_topic(spec, partner.partner_id))
        topics.append(
            NewTopic(named.name, named.partitions, replication, topic_configs=named.kafka_config())
        )
        if partner.kind in spec.producers:
            topics.append(NewTopic(named.dlq, 1, replication, topic_configs=named.dlq_config()))
    return topics


async def ensure_partner_topics(bootstrap: str, partner: Partner) -> list[str]:
    """Create the partner's topics that are missing; returns their names."""
    admin = AIOKafkaAdminClient(**client_options(bootstrap))
    await admin.start()
    try:
        present = set(await admin.list_topics())
        missing = [t for t in partner_new_topics(partner) if t.name not in present]
        if missing:
            await admin.create_topics(missing)
        return [t.name for t in missing]
    finally:
        await admin.close()


async def existing_topics(bootstrap: str) -> set[str]:
    admin = AIOKafkaAdminClient(**client_options(bootstrap))
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()


async def ensure_topics(
    bootstrap: str, specs: Sequence[TopicSpec], replication: int = 1, prefix: str = ""
) -> list[str]:
    """Create the topics that are missing; returns their names. Existing topics are left alone."""
    admin = AIOKafkaAdminClient(**client_options(bootstrap))
    await admin.start()
    try:
        present = set(await admin.list_topics())
        missing = [t for t in new_topics(specs, replication, prefix) if t.name not in present]
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
    bootstrap: str, topic: str
) -> tuple[AIOKafkaConsumer, list[TopicPartition]]:
    """A started consumer, in no group, on every partition of `topic` at its beginning, and
    those partitions. The caller stops it."""
    consumer = AIOKafkaConsumer(**client_options(bootstrap), enable_auto_commit=False)
    await consumer.start()
    partitions = [TopicPartition(topic, p) for p in range(await partition_count(bootstrap, topic))]
    consumer.assign(partitions)
    await consumer.seek_to_beginning(*partitions)
    return consumer, partitions
