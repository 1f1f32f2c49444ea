"""Sliding windows for early warning: what was filed against a subject (an employer; a district's
industry) in the last days.

With Redis each series is a sorted set scored by time: an entry is added (ZADD; the same filing
twice is one member), entries older than the window dropped (ZREMRANGEBYSCORE) and the rest read,
in one round trip. Without Redis (a lone service, unit tests) they live in memory. An entry is the
filing's channel reference and its number of workers, so a filing replayed after a crash counts
once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from redis.asyncio import Redis


@dataclass(frozen=True)
class Tally:
    filings: int
    workers: int


class Windows(Protocol):
    async def record(
        self, series: str, entry: str, workers: int, at: datetime, window: timedelta
    ) -> Tally: ...


class RedisWindows:
    def __init__(self, redis: Redis, prefix: str = "legal:window:") -> None:
        self.redis = redis
        self.prefix = prefix

    async def record(
        self, series: str, entry: str, workers: int, at: datetime, window: timedelta
    ) -> Tally:
        key = self.prefix + series
        now = at.timestamp()
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.zadd(key, {f"{entry}|{workers}": now})
            pipe.zremrangebyscore(key, "-inf", now - window.total_seconds())
            pipe.zrange(key, 0, -1)
            pipe.expire(key, int(window.total_seconds()) + 86400)
            _, _, members, _ = await pipe.execute()
        return _tally(members)


class InMemoryWindows:
    def __init__(self) -> None:
        self.series: dict[str, dict[str, float]] = {}

    async def record(
        self, series: str, entry: str, workers: int, at: datetime, window: timedelta
    ) -> Tally:
        entries = self.series.setdefault(series, {})
        entries[f"{entry}|{workers}"] = at.timestamp()
        oldest = at.timestamp() - window.total_seconds()
        for member in [m for m, t in entries.items() if t < oldest]:
            del entries[member]
        return _tally(list(entries))


def _tally(members: list[bytes] | list[str]) -> Tally:
    workers = 0
    for member in members:
        text = member.decode() if isinstance(member, bytes) else member
        workers += int(text.rpartition("|")[2])
    return Tally(filings=len(members), workers=workers)


def windows(redis: Redis | None, prefix: str = "legal:window:") -> Windows:
    return RedisWindows(redis, prefix) if redis is not None else InMemoryWindows()
