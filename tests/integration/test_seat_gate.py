"""skills's seat gate on the real Redis: after Postgres said a session is sold out, newcomers
and their retries are answered by Redis alone, whoever Postgres knows still goes on to it, the
sweep lifts the mark of a session with a place again, a Redis that lost its keys never turns
away a member Postgres knows, and an unreachable Redis sends everyone on to Postgres."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable

import pytest
from redis.asyncio import Redis

from skills.errors import Refused
from skills.gate import RedisSeatGate
from skills.seats import SOLD_OUT

from .conftest import REDIS_URL

pytestmark = pytest.mark.integration


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    client = Redis.from_url(REDIS_URL)
    yield client
    await client.aclose()


@pytest.fixture
def gate(redis: Redis) -> RedisSeatGate:
    return RedisSeatGate(redis, f"test-{uuid.uuid4().hex[:8]}:skills:")


class Postgres:
    """What Postgres would tell the gate, and how often it was asked."""

    def __init__(self, known: Iterable[uuid.UUID] = (), full: Iterable[uuid.UUID] = ()) -> None:
        self.known, self.full = list(known), set(full)
        self.asked = 0

    async def known_to_session(self) -> list[uuid.UUID]:
        self.asked += 1
        return self.known

    async def still_full(self, marked: list[uuid.UUID]) -> set[uuid.UUID]:
        return self.full & set(marked)


async def test_a_sold_out_session_is_answered_by_redis_except_to_whom_postgres_knows(
    gate: RedisSeatGate,
) -> None:
    session, other_session = uuid.uuid4(), uuid.uuid4()
    early, answered_before, newcomer = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    assert await gate.ask(early, "k-early", session) is None  # not full yet: to Postgres
    postgres = Postgres(known=[answered_before])
    await gate.sold_out(session, postgres.known_to_session)
    await gate.sold_out(session, postgres.known_to_session)
    assert postgres.asked == 1  # the known set is completed once
    assert await gate.ask(early, "k-early-again", session) is None
    assert await gate.ask(answered_before, "k-any", session) is None
    assert await gate.ask(newcomer, "k-new", session) == SOLD_OUT
    assert await gate.ask(newcomer, "k-new", session) == SOLD_OUT  # its retry
    with pytest.raises(Refused, match="another session"):
        await gate.ask(newcomer, "k-new", other_session)
    assert await gate.ask(newcomer, "k-fresh", other_session) is None  # not marked


async def test_the_sweep_lifts_the_marks_of_sessions_with_a_place_again(
    gate: RedisSeatGate,
) -> None:
    still, freed = uuid.uuid4(), uuid.uuid4()
    for session in (still, freed):
        await gate.sold_out(session, Postgres().known_to_session)
    postgres = Postgres(full=[still])
    assert await gate.reopen(postgres.still_full) == 1
    assert await gate.reopen(postgres.still_full) == 0  # lifted once
    assert await gate.ask(uuid.uuid4(), "k1", freed) is None
    assert await gate.ask(uuid.uuid4(), "k2", still) == SOLD_OUT


async def test_a_redis_that_lost_its_keys_never_turns_away_whom_postgres_knows(
    gate: RedisSeatGate, redis: Redis
) -> None:
    session = uuid.uuid4()
    holder = uuid.uuid4()
    assert await gate.ask(holder, "k-hold", session) is None
    await gate.sold_out(session, Postgres(known=[holder]).known_to_session)
    keys = [key async for key in redis.scan_iter(f"{gate.prefix}*")]
    assert keys
    await redis.delete(*keys)  # Redis restarted empty
    postgres = Postgres(known=[holder])
    await gate.sold_out(session, postgres.known_to_session)
    assert postgres.asked == 1
    assert await gate.ask(holder, "k-hold-again", session) is None
    assert await gate.ask(uuid.uuid4(), "k-new", session) == SOLD_OUT


async def test_without_redis_everyone_goes_on_to_postgres() -> None:
    unreachable = Redis(host="127.0.0.1", port=1, socket_connect_timeout=1)
    gate = RedisSeatGate(unreachable, "test:skills:")
    session = uuid.uuid4()
    await gate.sold_out(session, Postgres().known_to_session)
    assert await gate.ask(uuid.uuid4(), "k", session) is None
    assert await gate.reopen(Postgres().still_full) == 0
    await unreachable.aclose()
