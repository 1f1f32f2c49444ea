"""Early-warning windows on the real Redis count as the in-memory ones do, and a window kept
before its workers' total existed is counted from its members once."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from legal.windows import InMemoryWindows, RedisWindows

from .conftest import REDIS_URL

pytestmark = pytest.mark.integration


async def test_redis_windows_tally_as_the_in_memory_ones() -> None:
    redis = Redis.from_url(REDIS_URL)
    prefix = f"it-{uuid.uuid4().hex[:8]}:"
    ours, reference = RedisWindows(redis, prefix), InMemoryWindows()
    series = [("employer", timedelta(days=1)), ("district", timedelta(days=3))]
    rng, start = random.Random(11), datetime(2026, 1, 1, tzinfo=UTC)
    try:
        for n in range(400):
            at = start + timedelta(minutes=15 * n + rng.randrange(30))
            entry, workers = f"filing-{rng.randrange(300)}", rng.randrange(1, 9)
            assert await ours.record_all([(series, entry, workers, at)]) == (
                await reference.record_all([(series, entry, workers, at)])
            )
        await redis.delete(f"{prefix}employer:workers")  # as windows kept before the totals
        at = start + timedelta(days=5)
        batch = [(series, f"late-{n}", n + 1, at + timedelta(hours=n)) for n in range(5)]
        assert await ours.record_all(batch) == await reference.record_all(batch)  # one trip
    finally:
        keys = [k async for k in redis.scan_iter(f"{prefix}*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()
