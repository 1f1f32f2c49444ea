"""Sliding windows for early warning: what was filed against a subject (an employer; a district's
industry) in the last days.

With Redis each series is a sorted set scored by time, with its workers' total beside it: an
entry is added (ZADD; the same filing twice is one member), entries older than the window dropped
(ZREMRANGEBYSCORE) and both counted, by a script, in one round trip for all the series a filing
counts in. Without Redis (a lone service, unit
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


Recording = tuple[Sequence[Series], str, int, datetime]  # series, entry, workers, when


class Windows(Protocol):
    async def record_all(self, recordings: Sequence[Recording]) -> list[list[Tally]]:
        """Add each entry to each of its series, in turn; what each series held after it, in
        order."""
        ...


class RedisWindows:
    def __init__(self, redis: Redis, prefix: str = "legal:window:") -> None:
        self.redis = redis
        self.prefix = prefix
        self._record = redis.register_script(_RECORD)

    async def record_all(self, recordings: Sequence[Recording]) -> list[list[Tally]]:
        """In one round trip: the script runs for each entry and series in turn."""
        if not recordings:
            return []
        async with self.redis.pipeline(transaction=True) as pipe:
            for series, entry, workers, at in recordings:
                now = at.timestamp()
                for name, window in series:
                    key = self.prefix + name
                    await self._record(  # queued in the pipeline
                        keys=[key, key + ":workers"],
                        args=[
                            f"{entry}|{workers}",
                            workers,
                            now,
                            now - window.total_seconds(),
                            int(window.total_seconds()) + 86400,
                        ],
                        client=pipe,
                    )
            replies = await pipe.execute()
        tallies, start = [], 0
        for series, *_ in recordings:
            answered = replies[start : start + len(series)]
            tallies.append([Tally(filings=int(n), workers=int(w)) for n, w in answered])
            start += len(series)
        return tallies


# Adds an entry, drops those older than the window, and answers how many entries and workers
# the window holds: the workers' total is kept beside the set (made once from its members if
# missing), so an answer costs what left the window, not the whole window.
_RECORD = """
local entries, total = KEYS[1], KEYS[2]
local member, workers, now, oldest, ttl = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5]
local function workers_of(m) return tonumber(string.match(m, "|(%d+)$")) or 0 end
if redis.call("EXISTS", total) == 0 then
  local sum = 0
  for _, m in ipairs(redis.call("ZRANGE", entries, 0, -1)) do sum = sum + workers_of(m) end
  redis.call("SET", total, sum)
end
local gone = redis.call("ZRANGEBYSCORE", entries, "-inf", "(" .. oldest)
local dropped = 0
for _, m in ipairs(gone) do dropped = dropped + workers_of(m) end
if #gone > 0 then redis.call("ZREMRANGEBYSCORE", entries, "-inf", "(" .. oldest) end
local added = redis.call("ZADD", entries, now, member)
local sum = redis.call("INCRBY", total, added * workers - dropped)
redis.call("EXPIRE", entries, ttl)
redis.call("EXPIRE", total, ttl)
return {redis.call("ZCARD", entries), sum}
"""


class InMemoryWindows:
    def __init__(self) -> None:
        self.series: dict[str, dict[str, float]] = {}

    async def record_all(self, recordings: Sequence[Recording]) -> list[list[Tally]]:
        return [self._record(*recording) for recording in recordings]

    def _record(
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
