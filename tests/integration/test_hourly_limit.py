"""notify's hourly limit on the real Redis: one script call counts a whole batch of notices."""

from __future__ import annotations

import uuid

import pytest
from redis.asyncio import Redis

from notify.limits import HourlyLimit

from .conftest import REDIS_URL

pytestmark = pytest.mark.integration

HOUR = 36_000 * 3600.0  # a fixed hour: its counters are this test's alone (prefix below)


async def test_a_batch_is_counted_per_recipient_and_the_hour_expires_once() -> None:
    redis = Redis.from_url(REDIS_URL)
    prefix = f"it-{uuid.uuid4().hex[:8]}."
    limit = HourlyLimit(redis, per_hour=2, prefix=prefix)
    key = f"{prefix}notify:sent:member:a:36000"
    try:
        assert await limit.allow_all(["member:a", "member:a", "member:b", "member:a"], HOUR) == [
            True,
            True,
            True,
            False,
        ]
        assert int(await redis.get(key) or 0) == 3
        first_ttl = await redis.ttl(key)
        assert 7190 < first_ttl <= 7200

        await redis.expire(key, 100)  # as if the hour were almost gone
        assert await limit.allow_all(["member:b", "member:c"], HOUR + 1) == [True, True]
        assert await limit.allow_all(["member:a"], HOUR + 2) == [False]
        assert await redis.ttl(key) <= 100  # counting again does not prolong the hour
    finally:
        keys = [k async for k in redis.scan_iter(f"{prefix}*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()
