"""The service kit's four promises, proven against the real Kafka, PostgreSQL, Redis and Zipkin.

(a) an event committed to the outbox is published exactly once, even when the process is
    SIGKILLed between commit and publish;
(b) a redelivered event has one effect;
(c) an invalid message lands in the dead-letter topic with its reason, and the next message on
    the same partition is processed;
(d) one trace id spans the producer and the consumer across a Kafka hop, read back from Zipkin.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from gonghui_contracts import Envelope
from servicekit.kafka_access import client_options

from .conftest import (
    KAFKA,
    PII_ENV,
    REDIS_URL,
    as_operator,
    eventually,
    partner_span,
    publish,
    publish_many,
    python,
    read_topic,
    trace_holding,
    tracing_env,
)
from .kitprobe import Ping

pytestmark = pytest.mark.integration
PROBE = Path(__file__).with_name("kitprobe.py")
PROBE_CMD = python(str(PROBE), "serve")


async def probe_env(new_database: Any, in_topic: str, out_topic: str) -> dict[str, str]:
    return {
        **tracing_env(f"kitprobe-{uuid.uuid4().hex[:8]}"),
        "KAFKA_BOOTSTRAP_SERVERS": KAFKA,
        "DATABASE_URL": await new_database("kitprobe"),
        "REDIS_URL": REDIS_URL,
        "PROBE_IN_TOPIC": in_topic,
        "PROBE_OUT_TOPIC": out_topic,
        "OUTBOX_SWEEP_SECONDS": "0.5",
    }


def ping(n: int, *, fail: bool = False, key: str = "k") -> Envelope[Ping]:
    return Envelope.wrap(Ping(n=n, fail=fail), key=key, producer="it")


def event_ids(records: list[Any]) -> list[str]:
    return [json.loads(r.value)["event_id"] for r in records]


def effects(service: Any) -> int:
    return int(httpx.get(f"{service.url}/effects", timeout=5).json()["effects"])


async def test_committed_outbox_event_is_published_once_after_sigkill(
    new_topic: Any, new_database: Any, services: Any
) -> None:
    in_topic, out_topic = await new_topic("in"), await new_topic("out")
    env = await probe_env(new_database, in_topic, out_topic)
    writer = subprocess.Popen(
        [sys.executable, str(PROBE), "commit-and-hang"],
        env={**os.environ, **PII_ENV, **env},
        stdout=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None
    event_id = await asyncio.wait_for(asyncio.to_thread(writer.stdout.readline), 60)
    writer.kill()  # SIGKILL after the commit, before any relay could publish
    writer.wait(10)
    assert await read_topic(out_topic, expect=1, timeout=3) == []  # not published by the writer

    services(PROBE_CMD, env).start()  # the restarted service's relay sweeps the outbox
    records = await read_topic(out_topic, expect=1)
    assert event_ids(records) == [event_id.strip()]


async def test_redelivered_event_has_one_effect(
    new_topic: Any, new_database: Any, services: Any
) -> None:
    in_topic, out_topic = await new_topic("in"), await new_topic("out")
    service = services(PROBE_CMD, await probe_env(new_database, in_topic, out_topic))
    service.start()
    event = ping(7)
    for _ in range(3):  # at-least-once delivery: the same event, three times
        await publish(in_topic, event.to_bytes(), key=b"k")
    await publish(in_topic, ping(8).to_bytes(), key=b"k")

    pongs = await read_topic(out_topic, expect=2)
    assert sorted(json.loads(r.value)["data"]["n"] for r in pongs) == [7, 8]
    assert effects(service) == 2


async def test_redelivery_after_a_crash_has_one_effect(
    new_topic: Any, new_database: Any, services: Any
) -> None:
    in_topic, out_topic = await new_topic("in"), await new_topic("out")
    env = await probe_env(new_database, in_topic, out_topic)
    first = services(PROBE_CMD, env)
    first.start()
    events = [ping(n, key=f"k{n}") for n in range(200)]
    for event in events:
        await publish(in_topic, event.to_bytes(), key=event.key.encode())
    await eventually(lambda: effects(first) >= 50)
    first.kill()  # mid-stream: some batches committed, some offsets not

    second = services(PROBE_CMD, env)
    second.start()
    assert await eventually(lambda: effects(second) == 200, timeout=60)
    pongs = await read_topic(out_topic, expect=200)
    assert sorted({json.loads(r.value)["data"]["n"] for r in pongs}) == list(range(200))
    await asyncio.sleep(1)
    assert effects(second) == 200


async def test_invalid_message_goes_to_dlq_and_the_partition_moves_on(
    new_topic: Any, new_database: Any, services: Any
) -> None:
    in_topic, out_topic = await new_topic("in", partitions=1), await new_topic("out")
    service = services(PROBE_CMD, await probe_env(new_database, in_topic, out_topic))
    service.start()
    await publish(in_topic, b"{not json", key=b"same", headers={"origin": "partner-x"})
    await publish(in_topic, ping(1, fail=True, key="same").to_bytes(), key=b"same")
    good = ping(2, key="same")
    await publish(in_topic, good.to_bytes(), key=b"same")

    pongs = await read_topic(out_topic, expect=1)
    assert [json.loads(r.value)["causation_id"] for r in pongs] == [str(good.event_id)]
    dead = await read_topic(in_topic + ".dlq", expect=2)
    assert dead[0].value == b"{not json"
    headers = [{k: v.decode() for k, v in d.headers} for d in dead]
    assert headers[0]["origin"] == "partner-x"  # original headers kept
    assert "ContractViolation" in headers[0]["dlq.reason"]
    assert headers[0]["dlq.group"] == service.env["SERVICE_NAME"]
    assert headers[0]["dlq.topic"] == in_topic
    assert headers[1]["dlq.reason"] == "ValueError"  # the handler's error, after its retries
    assert headers[1]["dlq.attempts"] == "3"

    assert "2 dead letters" in servicekit_cli("dlq", "list", in_topic)


def servicekit_cli(*args: str) -> str:
    command = [str(Path(sys.executable).with_name("servicekit")), *args, "--bootstrap", KAFKA]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


async def test_dead_letter_replayed_after_the_cause_is_fixed_is_handled_once(
    new_topic: Any, new_database: Any, services: Any
) -> None:
    in_topic, out_topic = await new_topic("in"), await new_topic("out")
    service = services(PROBE_CMD, await probe_env(new_database, in_topic, out_topic))
    service.start()
    n = int(uuid.uuid4().int % 10**9)
    blocked = Envelope.wrap(Ping(n=n, needs_permit=True), key="k", producer="it")
    await publish(in_topic, blocked.to_bytes(), key=b"k")
    dead = await read_topic(in_topic + ".dlq", expect=1)
    assert f"no permit for {n}" in dict(dead[0].headers)["dlq.reason"].decode()
    assert dict(dead[0].headers)["dlq.attempts"] == b"1"  # permanent: not retried

    from redis import Redis

    Redis.from_url(REDIS_URL).set(f"kitprobe:permit:{n}", 1, ex=600)
    assert "replayed 1" in servicekit_cli("dlq", "replay", in_topic)
    pongs = await read_topic(out_topic, expect=1)
    assert [json.loads(r.value)["causation_id"] for r in pongs] == [str(blocked.event_id)]
    assert "replayed 1" in servicekit_cli("dlq", "replay", in_topic)  # a second replay...
    await asyncio.sleep(2)
    assert len(await read_topic(out_topic, expect=1)) == 1  # ...has no second effect


async def test_one_trace_spans_producer_and_consumer(
    new_topic: Any, new_database: Any, services: Any
) -> None:
    in_topic, out_topic = await new_topic("in"), await new_topic("out")
    service = services(PROBE_CMD, await probe_env(new_database, in_topic, out_topic))
    service.start()
    with partner_span(f"send {in_topic}") as (trace_id, headers):
        await publish(in_topic, ping(5).to_bytes(), key=b"k", headers=headers)
    await read_topic(out_topic, expect=1)
    name = service.env["SERVICE_NAME"]

    await trace_holding(
        trace_id,
        {
            "it-partner": [f"send {in_topic}"],
            # the database work is in the same trace
            name: [f"process {in_topic}", f"send {out_topic}", "insert"],
        },
    )


async def test_sigterm_finishes_the_batch_commits_and_publishes_before_exit(
    new_topic: Any, new_database: Any, services: Any
) -> None:
    in_topic, out_topic = await new_topic("in"), await new_topic("out")
    env = await probe_env(new_database, in_topic, out_topic)
    env["OUTBOX_SWEEP_SECONDS"] = "60"  # only the shutdown flush can publish what is left
    service = services(PROBE_CMD, env)
    service.start()
    await publish_many(
        in_topic, [(f"k{n}".encode(), ping(n, key=f"k{n}").to_bytes()) for n in range(300)]
    )
    await eventually(lambda: effects(service) >= 30, interval=0.05)
    assert service.process is not None
    service.process.send_signal(signal.SIGTERM)
    # uvicorn shuts down gracefully, then re-raises the signal it caught: -SIGTERM, in time
    assert await asyncio.to_thread(service.process.wait, 60) == -signal.SIGTERM
    assert service.log_path is not None
    assert "stopped; published" in service.log_path.read_text()  # the shutdown ran to its end
    handled_before_exit = await count_effects(env["DATABASE_URL"])
    pongs = await read_topic(out_topic, expect=handled_before_exit)
    assert (
        len({json.loads(r.value)["data"]["n"] for r in pongs}) == handled_before_exit
    )  # all published

    services(PROBE_CMD, env).start()  # the rest, from the committed offsets: nothing twice

    async def all_handled() -> bool:
        return await count_effects(env["DATABASE_URL"]) == 300

    assert await eventually(all_handled, timeout=60)
    pongs = await read_topic(out_topic, expect=300)
    assert sorted({json.loads(r.value)["data"]["n"] for r in pongs}) == list(range(300))


async def count_effects(database_url: str) -> int:
    connection = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))
    try:
        return int(await connection.fetchval("SELECT count(*) FROM probe_effects"))
    finally:
        await connection.close()


async def test_a_record_the_broker_refuses_is_parked_and_the_burst_around_it_goes_out_once(
    new_topic: Any, new_database: Any, services: Any
) -> None:
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    in_topic = await new_topic("in", partitions=1)
    out_topic = f"it.small-out.{uuid.uuid4().hex[:10]}"
    admin = AIOKafkaAdminClient(**client_options(KAFKA))
    await admin.start()
    # The broker takes at most 20 kB on this topic; one answer of the burst will be 50 kB.
    await admin.create_topics(
        [NewTopic(out_topic, 1, 1, topic_configs={"max.message.bytes": "20000"})]
    )
    try:
        env = await probe_env(new_database, in_topic, out_topic)
        service = services(PROBE_CMD, env)
        service.start()
        burst = [ping(n, key=f"k{n}") for n in range(200)]
        burst[100] = Envelope.wrap(Ping(n=100, pad=50_000), key="k100", producer="it")
        await publish_many(in_topic, [(e.key.encode(), e.to_bytes()) for e in burst])

        pongs = await read_topic(out_topic, expect=199, timeout=60)
        numbers = [json.loads(r.value)["data"]["n"] for r in pongs]
        assert sorted(numbers) == [n for n in range(200) if n != 100]  # each once, none twice
        parked = servicekit_local("outbox", "parked", "--database-url", env["DATABASE_URL"])
        assert "1 parked rows" in parked
        assert "refused by Kafka" in parked
        async with httpx.AsyncClient() as client:
            metrics = (
                await client.get(f"{service.url}/metrics", headers=as_operator(), timeout=5)
            ).text
        assert any(
            line.startswith("kit_outbox_parked_total") and line.endswith(" 1.0")
            for line in metrics.splitlines()
        )
        # the relay goes on: later answers are published too
        await publish(in_topic, ping(300, key="k300").to_bytes(), key=b"k300")
        later = await read_topic(out_topic, expect=200, timeout=30)
        assert sum(json.loads(r.value)["data"]["n"] == 300 for r in later) == 1
    finally:
        await admin.delete_topics([out_topic])
        await admin.close()


def servicekit_local(*args: str) -> str:
    """The operator CLI, for a command that talks to a service's database, not to Kafka."""
    command = [str(Path(sys.executable).with_name("servicekit")), *args]
    wide = {**os.environ, "COLUMNS": "300"}  # rich would cut the reason to fit 80 columns
    return subprocess.run(command, capture_output=True, text=True, check=True, env=wide).stdout
