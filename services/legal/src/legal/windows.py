"""Sliding windows for early warning: what was filed against a subject (an employer; a district's
industry) in the last days.

With Redis each series is a sorted set scored by time: an entry is added (ZADD; the same filing
twice is one member), entries older than the window dropped (ZREMRANGEBYSCORE) and the rest read,
in one round trip for all the series a filing counts in. Without Redis (a lone service, unit
tests) they live in memory. An entry is the filing's channel reference and its number of workers,
so a filing replayed after a crash counts once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from redis.asyncio import Redis


@dataclass(frozen=True)
class Tally:
    filings: int
    workers: int


Series = tuple[str, timedelta]  # a window's name, and how far back it reaches


class Windows(Protocol):
    async def record(
        self, series: Sequence[Series], entry: str, workers: int, at: datetime
    ) -> list[Tally]:
        """Add the entry to each series; what each holds now, in order."""
        ...


class RedisWindows:
    def __init__(self, redis: Redis, prefix: str = "legal:window:") -> None:
        self.redis = redis
        self.prefix = prefix

    async def record(
        self, series: Sequence[Series], entry: str, workers: int, at: datetime
    ) -> list[Tally]:
        now = at.timestamp()
        async with self.redis.pipeline(transaction=True) as pipe:
            for name, window in series:
                key = self.prefix + name
                pipe.zadd(key, {f"{entry}|{workers}": now})
                pipe.zremrangebyscore(key, "-inf", now - window.total_seconds())
                pipe.zrange(key, 0, -1)
                pipe.expire(key, int(window.total_seconds()) + 86400)
            replies = await pipe.execute()
        return [_tally(replies[4 * n + 2]) for n in range(len(series))]


class InMemoryWindows:
    def __init__(self) -> None:
        self.series: dict[str, dict[str, float]] = {}

    async def record(
        self, series: Sequence[Series], entry: str, workers: int, at: datetime
    ) -> list[Tally]:
        tallies = []
        for name, window in series:
            entries = self.series.setdefault(name, {})
            entries[f"{entry}|{workers}"] = at.timestamp()
            oldest = at.timestamp() - window.total_seconds()
            for member in [m for m, t in entries.items() if t < oldest]:
                del entries[member]
            tallies.append(_tally(list(entries)))
        return tallies


def _tally(members: list[bytes] | list[str]) -> Tally:
    workers = 0
    for member in members:
        text = member.decode() if isinstance(member, bytes) else member
        workers += int(text.rpartition("|")[2])
    return Tally(filings=len(members), workers=workers)


def windows(redis: Redis | None, prefix: str = "legal:window:") -> Windows:
    return RedisWindows(redis, prefix) if redis is not None else InMemoryWindows()
