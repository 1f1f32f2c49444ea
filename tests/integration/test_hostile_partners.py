"""Hostile partners: over a thousand hostile messages, published with kcat (librdkafka, not the
platform's client) among bursts of valid requests on every partner topic, with membership, aid,
legal and notify running as processes on topics of their own and fresh databases.

Every valid request gets exactly one answer; every hostile message that the broker took ends as
exactly one rejection outcome or one dead letter; no answer is published twice; and no consumer
or outbox relay of any service stands still for more than 10 s while it has work. The figures
per topic and per kind of message are printed and written to `hostile-figures.json` in the
test's temporary directory.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import shutil
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import confluent_kafka
import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from gonghui_contracts import access
from gonghui_contracts import topic as registry_topic
from gonghui_contracts.topics import DLQ_SUFFIX, TOPICS
from gonghui_contracts.values import Service
from servicekit.kafka_access import client_options

from . import hostile
from .conftest import (
    BUREAU,
    GATEWAY,
    KAFKA,
    PARTNER_PARTITIONS,
    PARTNERS,
    Platform,
    StartPlatform,
    kafka_properties,
)
from .hostile import FILINGS, INJURIES, JOINS, SEAT_REQUESTS, SENDERS, SETTLEMENTS, Message

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

VALID_PER_TOPIC = 240
HOSTILE_PER_TOPIC = 360
SEED = 20240627
STALL_LIMIT = 10.0  # seconds a consumer or relay with work may stand still
DRAIN_SECONDS = 150.0  # after the last publish, for every message to be answered
OUTCOMES = {
    JOINS: "partner.membership.join-outcomes.v1",
    INJURIES: "partner.aid.injury-outcomes.v1",
    FILINGS: "partner.legal.filing-outcomes.v1",
    SETTLEMENTS: "partner.aid.settlement-outcomes.v1",
    SEAT_REQUESTS: "partner.skills.seat-outcomes.v1",
}
INTAKE_OF = {answers: intake for intake, answers in OUTCOMES.items()}
# (a valid settlement is of no member here: reviewed, not paid)
ANSWERS = {
    JOINS: {"joined"},
    INJURIES: {"opened"},
    FILINGS: {"opened"},
    SETTLEMENTS: {"under_review"},
    SEAT_REQUESTS: {"rejected"},  # (of nobody the union knows, for no session)
}
SUBSCRIBED = {  # what each service's one consumer reads: what the registry names it a reader of
    service.value: tuple(spec.name for spec in TOPICS if service in spec.readers)
    for service in Service
}
KEY_DELIMITER = b"\xfe\xfdKEY\xfd\xfe"  # bytes that are not UTF-8, checked absent from messages
DELIMITER = b"\xfe\xfdEND\xfd\xfe"
BIG = 16 * 1024 * 1024  # fetch sizes of the test's readers: dead letters may be 1 MB


def kcat_delimiter(delimiter: bytes) -> str:
    return "".join(f"\\x{byte:02x}" for byte in delimiter)


@pytest.fixture
async def platform(start_platform: StartPlatform) -> Platform:
    return await start_platform(tuple(SUBSCRIBED), {}, partners=(*PARTNERS, BUREAU, GATEWAY))


# ------------------------------------------------------------ publishing and reading


def newer_librdkafka(home: Path) -> Path:
    """A directory whose librdkafka.so.1 is the one confluent-kafka's wheel carries: Debian 12's
    librdkafka 2.0.2, which its kcat links, cannot authenticate with SCRAM to Kafka 4 (the
    broker checks the nonce strictly since 4.0; librdkafka fixed its side in 2.6.1)."""
    [library] = (Path(confluent_kafka.__file__).parent.parent / "confluent_kafka.libs").glob(
        "librdkafka*.so*"
    )
    directory = home / "librdkafka"
    directory.mkdir(exist_ok=True)
    link = directory / "librdkafka.so.1"
    if not link.exists():
        link.symlink_to(library)
    return directory


async def kcat_publish(
    topic: str, messages: list[Message], sender: access.Partner, home: Path
) -> str:
    """Publish with Debian's kcat as `sender`, in order: one process for each run of messages
    with the same headers; returns what kcat said on stderr. The client's own size limit is
    raised so that the broker decides what is too large."""
    kcat = shutil.which("kcat")
    assert kcat, "kcat is not installed (deploy/local/stack.sh install adds Debian's package)"
    config = kafka_properties(sender, home / f"kcat-{sender.partner_id}.properties")
    environment = {**os.environ, "LD_LIBRARY_PATH": str(newer_librdkafka(home))}
    said = []
    for headers, run in itertools.groupby(messages, key=lambda m: m.headers):
        process = await asyncio.create_subprocess_exec(
            kcat,
            "-F",
            str(config),
            "-P",
            "-b",
            KAFKA,
            "-t",
            topic,
            "-K",
            kcat_delimiter(KEY_DELIMITER),
            "-D",
            kcat_delimiter(DELIMITER),
            "-X",
            "message.max.bytes=4000000",
            *(arg for name, value in headers for arg in ("-H", f"{name}={value}")),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=environment,
        )
        kcat_input = hostile.kcat_input(list(run), KEY_DELIMITER, DELIMITER)
        _, stderr = await process.communicate(kcat_input)
        said.append(stderr.decode(errors="replace"))
        assert process.returncode == 0 or "Delivery failed" in said[-1], said[-1]
    return "".join(said)


def reader() -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        **client_options(KAFKA),
        enable_auto_commit=False,
        fetch_max_bytes=BIG,
        max_partition_fetch_bytes=BIG,
    )


def own(platform: Platform, name: str) -> str:
    """The platform's topic of registry topic `name` (or of its dead letters); of a partners'
    family, the own topic of this test's partner of it."""
    source = name.removesuffix(DLQ_SUFFIX)
    sender = SENDERS.get(source) or SENDERS.get(INTAKE_OF.get(source, ""))
    topic = platform.partner_topic(source, sender) if sender else platform.topic(source)
    return topic + name[len(source) :]


def partitions(topic: str, registry_name: str) -> list[TopicPartition]:
    source = registry_name.removesuffix(DLQ_SUFFIX)
    if source != registry_name:
        count = 1
    elif source in SENDERS or source in INTAKE_OF:
        count = PARTNER_PARTITIONS
    else:
        count = registry_topic(source).partitions
    return [TopicPartition(topic, p) for p in range(count)]


class Tail:
    """Everything on some of the platform's topics from their start, read as it arrives."""

    def __init__(self, platform: Platform, names: list[str]) -> None:
        self.consumer = reader()
        self.partitions = [tp for name in names for tp in partitions(own(platform, name), name)]
        self.records: dict[str, list[ConsumerRecord[bytes, bytes]]] = defaultdict(list)

    async def start(self) -> None:
        await self.consumer.start()
        self.consumer.assign(self.partitions)
        await self.consumer.seek_to_beginning(*self.partitions)

    async def poll(self, seconds: float = 0.5) -> None:
        batches = await self.consumer.getmany(timeout_ms=int(seconds * 1000))
        for tp, records in batches.items():
            self.records[tp.topic].extend(records)

    async def read_to_end(self) -> None:
        """Until every partition's position is at its end offset of now."""
        ends = await self.consumer.end_offsets(self.partitions)
        for tp, end in ends.items():
            while await self.consumer.position(tp) < end:
                await self.poll()

    async def stop(self) -> None:
        await self.consumer.stop()


# ------------------------------------------------------------ watching for stalls


@dataclass
class Stillness:
    """How long one loop (a consumer, a relay) stood still while it had work."""

    since: float = field(default_factory=time.monotonic)
    mark: Any = None
    longest: float = 0.0
    when: str = ""

    def see(self, busy: bool, mark: Any, now: float, clock: str) -> None:
        if not busy or mark != self.mark:
            self.since, self.mark = now, mark
        if now - self.since > self.longest:
            self.longest, self.when = now - self.since, clock


class Watch:
    """Samples every service twice a second: its consumer has work while its group's committed
    offsets are behind the ends of the topics it reads, and moves when they advance; its relay
    has work while its outbox holds rows, and moves when the oldest row changes (published or
    parked)."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.started = time.monotonic()
        self.loops: dict[str, Stillness] = {}
        self.busy: dict[str, bool] = {}
        self.exited: dict[str, int] = {}
        self.samples = 0
        self.idle_since: float | None = None
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        self._stop.set()
        assert self._task is not None
        await self._task

    def idle_for(self) -> float:
        """Seconds since every consumer caught up and every outbox emptied (0: busy now)."""
        return time.monotonic() - self.idle_since if self.idle_since is not None else 0.0

    async def _run(self) -> None:
        admin = AIOKafkaAdminClient(**client_options(KAFKA))
        offsets = reader()
        await admin.start()
        await offsets.start()
        databases = {
            name: await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
            for name, url in self.platform.databases.items()
        }
        read = {
            name: [tp for t in topics for tp in partitions(own(self.platform, t), t)]
            for name, topics in SUBSCRIBED.items()
        }
        try:
            while not self._stop.is_set():
                ends = await offsets.end_offsets([tp for tps in read.values() for tp in tps])
                now = time.monotonic()
                clock = f"{now - self.started:.1f}s"
                for name, service in self.platform.services.items():
                    assert service.process is not None
                    if service.process.poll() is not None:
                        self.exited[name] = service.process.returncode
                    group = service.env.get("KAFKA_CONSUMER_GROUP") or service.env["SERVICE_NAME"]
                    committed = await admin.list_consumer_group_offsets(group)
                    behind = {
                        tp: ends[tp] - (committed[tp].offset if tp in committed else 0)
                        for tp in read[name]
                    }
                    consumer_busy = any(lag > 0 for lag in behind.values())
                    mark = tuple(
                        committed[tp].offset if tp in committed else 0 for tp in read[name]
                    )
                    self._see(f"{name} consumer", consumer_busy, mark, now, clock)
                    rows, oldest = await databases[name].fetchrow(
                        "SELECT count(*), min(seq) FROM kit_outbox"
                    )
                    self._see(f"{name} relay", rows > 0, oldest, now, clock)
                self.samples += 1
                if any(self.busy.values()):
                    self.idle_since = None
                elif self.idle_since is None:
                    self.idle_since = now
                await asyncio.sleep(0.5)
        finally:
            for connection in databases.values():
                await connection.close()
            await offsets.stop()
            await admin.close()

    def _see(self, loop: str, busy: bool, mark: Any, now: float, clock: str) -> None:
        self.busy[loop] = busy
        self.loops.setdefault(loop, Stillness(since=now)).see(busy, mark, now, clock)


# ------------------------------------------------------------ accounting


def envelope_of(record: ConsumerRecord[bytes, bytes]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(record.value)
    return loaded


@dataclass
class Figures:
    valid: int = 0
    valid_answered: int = 0
    hostile: int = 0
    refused_by_broker: int = 0
    hostile_published: int = 0
    rejected: int = 0
    dead_lettered: int = 0
    outcomes: int = 0
    dead_letters: int = 0


def account(
    platform: Platform,
    topic: str,
    landed: dict[tuple[int, int], Message],
    tail: Tail,
    by_kind: dict[str, Counter[str]],
    problems: list[str],
    figures: Figures,
) -> None:
    """Match every landed message of `topic` with its answers (by the answer's causation_id) and
    its dead letters (by the dlq.partition and dlq.offset headers)."""
    outcomes = [envelope_of(r) for r in tail.records[own(platform, OUTCOMES[topic])]]
    dead = tail.records[own(platform, topic) + ".dlq"]
    figures.outcomes, figures.dead_letters = len(outcomes), len(dead)
    answers: dict[uuid.UUID, list[dict[str, Any]]] = defaultdict(list)
    for outcome in outcomes:
        if outcome.get("causation_id"):
            answers[uuid.UUID(outcome["causation_id"])].append(outcome)
    letters: dict[tuple[int, int], int] = Counter()
    for record in dead:
        headers = {k: v.decode(errors="replace") for k, v in record.headers}
        if headers.get("dlq.topic") != own(platform, topic):
            problems.append(
                f"{topic}: a dead letter names source topic {headers.get('dlq.topic')!r}"
            )
            continue
        letters[int(headers["dlq.partition"]), int(headers["dlq.offset"])] += 1

    twice = [event for event, n in Counter(o["event_id"] for o in outcomes).items() if n > 1]
    if twice:
        problems.append(f"{topic}: {len(twice)} outcomes published more than once (same event_id)")
    ref_field = hostile.BY_TOPIC[topic].ref_field
    valid_refs = {m.ref for m in landed.values() if not m.hostile}
    per_ref = Counter(
        (o["data"][ref_field], o["data"]["outcome"])
        for o in outcomes
        if o["data"][ref_field] in valid_refs
    )
    repeated = [ref for ref, n in per_ref.items() if n > 1]
    if repeated:
        problems.append(
            f"{topic}: {len(repeated)} valid requests answered more than once the same way"
        )

    sent_ids = {m.event_id for m in landed.values() if m.event_id is not None}
    strays = [
        o
        for o in outcomes
        if not o.get("causation_id") or uuid.UUID(o["causation_id"]) not in sent_ids
    ]
    if strays:
        problems.append(f"{topic}: {len(strays)} outcomes answer no message of the burst")
    unknown_letters = set(letters) - set(landed)
    if unknown_letters:
        problems.append(f"{topic}: {len(unknown_letters)} dead letters of no message of the burst")

    failed: dict[str, list[str]] = defaultdict(list)  # what went wrong: where
    for position, message in sorted(landed.items()):
        got = answers.get(message.event_id, []) if message.event_id is not None else []
        kinds = sorted(o["data"]["outcome"] for o in got)
        letter = letters.get(position, 0)
        verdict = (
            "; ".join(
                [f"answered {'+'.join(kinds)}"] * bool(kinds)
                + [f"{letter} dead letters"] * bool(letter)
            )
            or "no answer and no dead letter"
        )
        where = f"{position[0]}:{position[1]}"
        if not message.hostile:
            figures.valid_answered += bool(got)
            if len(got) != 1 or kinds[0] not in ANSWERS[topic] or letter:
                failed[f"valid request: {verdict}"].append(where)
            continue
        if len(got) + letter == 1 and kinds in ([], ["rejected"]):
            figures.rejected += len(got)
            figures.dead_lettered += letter
            by_kind[message.kind]["rejected" if got else "dead letter"] += 1
            continue
        by_kind[message.kind][verdict] += 1
        failed[f"hostile ({message.kind}): {verdict}"].append(where)
    for what, places in sorted(failed.items()):
        shown = ", ".join(places[:3]) + ", …" * (len(places) > 3)
        problems.append(f"{topic}: {len(places)} × {what} (at {shown})")


# ------------------------------------------------------------ the test


async def test_hostile_partners_get_a_rejection_or_a_dead_letter_and_stop_nothing(
    platform: Platform, tmp_path: Path
) -> None:
    topics = (JOINS, INJURIES, FILINGS, SETTLEMENTS, SEAT_REQUESTS)
    bursts = {
        topic: hostile.burst(topic, VALID_PER_TOPIC, HOSTILE_PER_TOPIC, SEED + n)
        for n, topic in enumerate(topics)
    }
    assert sum(m.hostile for ms in bursts.values() for m in ms) >= 1_000

    watch = Watch(platform)
    watch.start()
    said = await asyncio.gather(
        *(kcat_publish(own(platform, t), bursts[t], SENDERS[t], tmp_path) for t in topics)
    )
    published_at = time.monotonic()

    # What the broker took, and where: the dead letters name these positions.
    sent = Tail(platform, list(topics))
    await sent.start()
    await sent.read_to_end()
    await sent.stop()
    landed: dict[str, dict[tuple[int, int], Message]] = {}
    refused: dict[str, list[Message]] = {}
    for topic, kcat_said in zip(topics, said, strict=True):
        by_content = {(m.key, m.value): m for m in bursts[topic]}
        records = sent.records[own(platform, topic)]
        landed[topic] = {
            (r.partition, r.offset): by_content[r.key, r.value or b""] for r in records
        }
        refused[topic] = [m for m in bursts[topic] if m not in landed[topic].values()]
        assert all(m.hostile for m in refused[topic]), (
            f"the broker refused valid requests: {kcat_said}"
        )
        assert kcat_said.count("Delivery failed") == len(refused[topic]), kcat_said

    # Until every message is answered or dead-lettered and every service idle, or every service
    # has been idle for a while (what is unanswered then will not be answered).
    tail = Tail(platform, [OUTCOMES[t] for t in topics] + [t + ".dlq" for t in topics])
    await tail.start()
    try:
        while time.monotonic() - published_at < DRAIN_SECONDS:
            await tail.poll(1.0)
            answered = sum(len(tail.records[own(platform, OUTCOMES[t])]) for t in topics)
            lettered = sum(len(tail.records[own(platform, t) + ".dlq"]) for t in topics)
            accounted = answered + lettered >= sum(map(len, landed.values()))
            if (accounted and watch.idle_for() > 0) or watch.idle_for() > 5:
                break
        await asyncio.sleep(2)  # an answer published twice would come now
        await tail.poll(1.0)
    finally:
        await watch.stop()
        await tail.stop()

    problems: list[str] = []
    by_kind: dict[str, Counter[str]] = defaultdict(Counter)
    figures: dict[str, Figures] = {}
    for topic in topics:
        figures[topic] = numbers = Figures(
            valid=sum(not m.hostile for m in bursts[topic]),
            hostile=sum(m.hostile for m in bursts[topic]),
            refused_by_broker=len(refused[topic]),
            hostile_published=sum(m.hostile for m in landed[topic].values()),
        )
        account(platform, topic, landed[topic], tail, by_kind, problems, numbers)
    for loop, still in sorted(watch.loops.items()):
        if still.longest > STALL_LIMIT:
            problems.append(
                f"{loop} stood still with work for {still.longest:.0f}s (until {still.when})"
            )
    for name, code in watch.exited.items():
        problems.append(f"{name} exited with {code}")

    report = {
        "topics": {topic: vars(numbers) for topic, numbers in figures.items()},
        "longest_still_seconds": {
            loop: round(s.longest, 1) for loop, s in sorted(watch.loops.items())
        },
        "samples": watch.samples,
        "kinds": {kind: dict(verdicts) for kind, verdicts in sorted(by_kind.items())},
        "refused_by_broker": {t: sorted({m.kind for m in ms}) for t, ms in refused.items()},
    }
    (tmp_path / "hostile-figures.json").write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))
    assert sum(f.hostile_published for f in figures.values()) >= 1_000
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:200])
