"""The seats phase of `make bench`: 10,000 members ask for one session of 300 seats (waitlist 200)
over HTTP at once, as an app with a pool of connections sends them; the time until every request
is answered and until the session sold out, each answer's latency, and the seats taken beyond
capacity (must be none). Then the same members ask for another session through an app gateway
over Kafka, all at once. Beside them, the floor: the same 10,000 requests as bare conditional
UPDATEs (`taken = taken + 1 WHERE taken < capacity`) on the same PostgreSQL, through a pool of
as many connections as a service's.

The members are announced first as membership would (MemberJoined on membership.events.v1), and
every service reading that topic is awaited; that part is not timed.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

import aiohttp
import asyncpg
import bursts
import httpx
import localrun
import measure
import streams
from aiokafka import AIOKafkaProducer
from seats_day import member_token

from gonghui_contracts import Envelope
from gonghui_contracts.events import MemberJoined, SeatRequested
from gonghui_contracts.values import Industry, JoinChannel
from servicekit.identity import Role
from servicekit.kafka_access import client_options

SKILLS = localrun.SERVICES["skills"].url
SEATS, WAITLIST = 300, 200
IN_FLIGHT = 100  # the app gateway's connection pool
CONNECTIONS = 20  # as many as a service's database pool holds (10 + 10 overflow)
READERS = ("skills", "aid", "notify")  # every service that reads membership.events.v1
GATEWAY = "sz-i-gong"  # the local partner directory's app gateway


async def announce(count: int, timeout: float) -> list[uuid.UUID]:
    members = [uuid.uuid4() for _ in range(count)]
    producer = AIOKafkaProducer(**client_options(localrun.KAFKA), linger_ms=20)
    await producer.start()
    try:
        pending = []
        for member_id in members:
            payload = MemberJoined(
                member_id=member_id,
                union_id="440304-county",
                region_code="440304",
                city_code="440300",
                industry=Industry.MANUFACTURING,
                new_employment_form=False,
                channel=JoinChannel.APP,
                joined_on=date.today(),
            )
            value = Envelope.wrap(payload, key=str(member_id), producer="bench").to_bytes()
            pending.append(
                await producer.send("membership.events.v1", value, key=str(member_id).encode())
            )
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    deadline = time.monotonic() + timeout
    # every service done with them (aid's enrolments told by notify too), so that the timed
    # part has the machine to itself
    for group, topic in (
        *((g, "membership.events.v1") for g in READERS),
        ("notify", "aid.events.v1"),
    ):
        while not await streams.caught_up(group, topic):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{group} did not read the bench's members on {topic}")
            await asyncio.sleep(1)
    await asyncio.sleep(10)  # notify's last notices on their way out
    return members


async def flash_session(client: httpx.AsyncClient) -> str:
    now = datetime.now(UTC)
    staff = localrun.local_tokens().headers(Role.STAFF, subject="bench-staff", union="440300")
    body = {
        "provider": "基准测试夜校",
        "title": "基准测试课程",
        "region_code": "440304",
        "sessions": [
            {
                "campus": "基准测试校区",
                "opens_at": (now - timedelta(seconds=1)).isoformat(),
                "starts_at": (now + timedelta(days=3)).isoformat(),
                "ends_at": (now + timedelta(days=3, hours=2)).isoformat(),
                "capacity": SEATS,
                "waitlist_cap": WAITLIST,
            }
        ],
    }
    response = await client.post(f"{SKILLS}/v1/courses", json=body, headers=staff)
    response.raise_for_status()
    return str(response.json()["sessions"][0])


async def over_http(members: list[uuid.UUID]) -> dict[str, Any]:
    tokens = {m: member_token(m) for m in members}
    async with httpx.AsyncClient(timeout=60) as client:
        session_id = await flash_session(client)
    path = f"{SKILLS}/v1/sessions/{session_id}/holds"
    latencies: list[float] = []
    outcomes: dict[str, int] = {}
    errors = retries = 0
    sold_out_after: float | None = None
    # aiohttp rather than httpx: the app's side must not be what limits the rate
    connector = aiohttp.TCPConnector(limit=IN_FLIGHT)
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=120)
    ) as app:
        gate = asyncio.Semaphore(IN_FLIGHT)  # a request's time counts from its connection's
        started = time.monotonic()

        async def ask(member_id: uuid.UUID) -> None:
            nonlocal errors, retries, sold_out_after
            headers = {**tokens[member_id], "Idempotency-Key": f"b-{member_id.hex}"}
            async with gate:
                while True:  # a dropped connection: the same request again, as an app does
                    sent = time.monotonic()
                    try:
                        async with app.post(path, headers=headers) as response:
                            status, body = response.status, await response.json()
                        break
                    except aiohttp.ClientConnectionError:
                        retries += 1
                latencies.append(time.monotonic() - sent)
            if status != 200:
                errors += 1
                return
            outcomes[body["outcome"]] = outcomes.get(body["outcome"], 0) + 1
            if body["outcome"] == "sold_out" and sold_out_after is None:
                sold_out_after = time.monotonic() - started

        await asyncio.gather(*(ask(m) for m in members))
        elapsed = time.monotonic() - started
    return {
        "requests": len(members),
        "answered": sum(outcomes.values()),
        "errors": errors,
        "connection_retries": retries,
        "outcomes": outcomes,
        "all_answered_seconds": round(elapsed, 2),
        "sold_out_seconds": round(sold_out_after, 2) if sold_out_after else None,
        "answers_per_second": round(len(members) / elapsed, 1),
        "latency_seconds": measure.percentiles(latencies),
        **await seats_taken(session_id),
    }


async def floor(count: int) -> dict[str, Any]:
    """The same number of requests as bare conditional UPDATEs of one row: `IN_FLIGHT` at once,
    through `CONNECTIONS` connections."""
    pool = await asyncpg.create_pool(
        host="127.0.0.1",
        port=int(localrun.PG_PORT),
        user="postgres",
        database=localrun.SERVICES["skills"].name,
        min_size=CONNECTIONS,
        max_size=CONNECTIONS,
    )
    assert pool is not None
    try:
        await pool.execute("DROP TABLE IF EXISTS bench_floor_seats")
        await pool.execute(
            "CREATE TABLE bench_floor_seats (id int PRIMARY KEY, taken int NOT NULL, "
            "capacity int NOT NULL, CHECK (taken <= capacity))"
        )
        await pool.execute("INSERT INTO bench_floor_seats VALUES (1, 0, $1)", SEATS)
        latencies: list[float] = []
        gate = asyncio.Semaphore(IN_FLIGHT)
        started = time.monotonic()

        async def ask() -> None:
            async with gate:
                sent = time.monotonic()
                await pool.fetchval(
                    "UPDATE bench_floor_seats SET taken = taken + 1 "
                    "WHERE id = 1 AND taken < capacity RETURNING taken"
                )
                latencies.append(time.monotonic() - sent)

        await asyncio.gather(*(ask() for _ in range(count)))
        elapsed = time.monotonic() - started
        await pool.execute("DROP TABLE bench_floor_seats")
    finally:
        await pool.close()
    return {
        "requests": count,
        "connections": CONNECTIONS,
        "all_answered_seconds": round(elapsed, 2),
        "answers_per_second": round(count / elapsed, 1),
        "latency_seconds": measure.percentiles(latencies),
    }


async def over_kafka(members: list[uuid.UUID], timeout: float) -> dict[str, Any]:
    """The same members ask for another session through the app gateway, all at once, keyed by
    the session (so in one partition, answered in order). Those still holding a seat of the
    HTTP run are refused: one hold at a time."""
    gateway = localrun.partner(GATEWAY)
    async with httpx.AsyncClient(timeout=60) as client:
        session_id = await flash_session(client)
    messages = [
        (
            session_id,
            Envelope.wrap(
                SeatRequested(
                    request_ref=f"k-{m.hex[:24]}",
                    gateway_id=GATEWAY,
                    member_id=m,
                    session_id=uuid.UUID(session_id),
                ),
                key=session_id,
                producer=GATEWAY,
            ).to_bytes(),
        )
        for m in members
    ]
    outcomes = streams.own_topic("partner.skills.seat-outcomes.v1", gateway)
    figures = await bursts.run(
        "skills",
        "partner.skills.seat-requests.v1",
        {gateway: messages},
        (outcomes, "skills.seat-request-outcome"),
        timeout,
    )
    answers = await streams.read_events([outcomes], expected=len(members), timeout=60)
    return {
        "requests": len(members),
        "answered": figures["handled"],
        "outcomes": dict(Counter(a["data"]["outcome"] for a in answers)),
        "all_answered_seconds": figures["drain_seconds"],
        "answers_per_second": figures["per_second"],
        "latency_seconds": figures["latency_seconds"],
        **await seats_taken(session_id),
    }


async def seats_taken(session_id: str) -> dict[str, int]:
    """Seats taken of the session, and those beyond capacity (must be none)."""
    connection = await asyncpg.connect(
        host="127.0.0.1", port=int(localrun.PG_PORT), user="postgres", database="skills"
    )
    try:
        row = await connection.fetchrow(
            "SELECT taken, capacity, (SELECT count(*) FROM bookings WHERE session_id = $1 "
            "AND state IN ('held', 'confirmed', 'offered')) AS seated FROM sessions "
            "WHERE session_id = $1",
            uuid.UUID(session_id),
        )
    finally:
        await connection.close()
    assert row is not None
    return {
        "taken": int(row["taken"]),
        "oversold": max(0, int(row["seated"]) - int(row["capacity"])),
    }


async def run(count: int, timeout: float) -> dict[str, Any]:
    members = await announce(count, timeout)
    return {
        "floor": await floor(count),
        "http": await over_http(members),
        "kafka": await over_kafka(members, timeout),
    }
