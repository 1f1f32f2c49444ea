"""Reading and replaying a topic's dead letters (`<topic>.dlq`)."""

from __future__ import annotations

from dataclasses import dataclass

from aiokafka import AIOKafkaProducer

from gonghui_contracts.topics import DLQ_SUFFIX
from servicekit.consumer import REPLAY_HEADER
from servicekit.kafka_access import client_options
from servicekit.telemetry import decode_headers
from servicekit.topics_admin import reader_from_start


@dataclass(frozen=True)
class DeadLetter:
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: dict[str, str]

    @property
    def position(self) -> str:
        return f"{self.partition}:{self.offset}"


async def read(bootstrap: str, source_topic: str, limit: int | None = None) -> list[DeadLetter]:
    """Every dead letter of `source_topic` from the start, without joining a consumer group."""
    dlq = source_topic + DLQ_SUFFIX
    consumer, partitions = await reader_from_start(bootstrap, dlq)
    try:
        ends = await consumer.end_offsets(partitions)
        letters: list[DeadLetter] = []
        while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            batches = await consumer.getmany(timeout_ms=1000)
            for records in batches.values():
                letters.extend(
                    DeadLetter(r.partition, r.offset, r.key, r.value, decode_headers(r.headers))
                    for r in records
                )
            if limit is not None and len(letters) >= limit:
                break
        return letters[:limit] if limit is not None else letters
    finally:
        await consumer.stop()


def replay_headers(letter: DeadLetter) -> list[tuple[str, bytes]]:
    """The original headers, plus where the replay came from; the dlq.* annotations dropped."""
    kept = {k: v for k, v in letter.headers.items() if not k.startswith("dlq.")}
    kept[REPLAY_HEADER] = f"{letter.headers.get('dlq.topic', '?')}{DLQ_SUFFIX}@{letter.position}"
    return [(k, v.encode()) for k, v in kept.items()]


async def replay(bootstrap: str, source_topic: str, positions: set[str] | None = None) -> int:
    """Publish dead letters (all, or those at "partition:offset" `positions`) to their topic."""
    letters = [
        letter
        for letter in await read(bootstrap, source_topic)
        if positions is None or letter.position in positions
    ]
    producer = AIOKafkaProducer(**client_options(bootstrap), enable_idempotence=True, acks="all")
    await producer.start()
    try:
        for letter in letters:
            await producer.send_and_wait(
                source_topic, letter.value, key=letter.key, headers=replay_headers(letter)
            )
    finally:
        await producer.stop()
    return len(letters)
