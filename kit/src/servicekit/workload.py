"""How much open work each person has (visits to make, cases to handle): counts that steer who
gets the next piece of work, shared by every replica of a service.

With Redis they are a hash (HINCRBY as work is given and finished); without it (a lone service on
SQLite, unit tests) they live in memory. They only steer: the database is the truth, and the
service recounts from it regularly and writes the counts back with `reset`, so a change lost to a
rolled-back transaction does not last.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Protocol, cast

from redis.asyncio import Redis
from redis.typing import EncodableT


class Workload(Protocol):
    async def counts(self, ids: Iterable[str]) -> dict[str, int]: ...

    async def change(self, worker_id: str, by: int) -> None: ...

    async def change_all(self, changes: Mapping[str, int]) -> None: ...

    async def reset(self, counts: Mapping[str, int]) -> None: ...


class RedisWorkload:
    def __init__(self, redis: Redis, key: str) -> None:
        self.redis = redis
        self.key = key

    async def counts(self, ids: Iterable[str]) -> dict[str, int]:
        wanted = list(ids)
        if not wanted:
            return {}
        found = await self.redis.hmget(self.key, wanted)
        return {i: int(n or 0) for i, n in zip(wanted, found, strict=True)}

    async def change(self, worker_id: str, by: int) -> None:
        await self.redis.hincrby(self.key, worker_id, by)

    async def change_all(self, changes: Mapping[str, int]) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            for worker_id, by in changes.items():
                pipe.hincrby(self.key, worker_id, by)
            await pipe.execute()

    async def reset(self, counts: Mapping[str, int]) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(self.key)
            if counts:
                pipe.hset(self.key, mapping=cast("Mapping[EncodableT, EncodableT]", counts))
            await pipe.execute()


class InMemoryWorkload:
    def __init__(self) -> None:
        self.open: dict[str, int] = {}

    async def counts(self, ids: Iterable[str]) -> dict[str, int]:
        return {i: self.open.get(i, 0) for i in ids}

    async def change(self, worker_id: str, by: int) -> None:
        self.open[worker_id] = self.open.get(worker_id, 0) + by

    async def change_all(self, changes: Mapping[str, int]) -> None:
        for worker_id, by in changes.items():
            await self.change(worker_id, by)

    async def reset(self, counts: Mapping[str, int]) -> None:
        self.open = dict(counts)


class BatchWorkload:
    """A workload for a batch of work given out together: each count is read once, changes are
    kept here (so the batch's later choices see its earlier ones) and `flush` writes them in one
    round trip."""

    def __init__(self, shared: Workload) -> None:
        self.shared = shared
        self.read: dict[str, int] = {}
        self.changes: Counter[str] = Counter()

    async def counts(self, ids: Iterable[str]) -> dict[str, int]:
        wanted = list(ids)
        if missing := [i for i in wanted if i not in self.read]:
            self.read.update(await self.shared.counts(missing))
        return {i: self.read[i] + self.changes[i] for i in wanted}

    async def change(self, worker_id: str, by: int) -> None:
        self.changes[worker_id] += by

    async def change_all(self, changes: Mapping[str, int]) -> None:
        self.changes.update(changes)

    async def reset(self, counts: Mapping[str, int]) -> None:
        await self.shared.reset(counts)

    async def flush(self) -> None:
        if changed := {i: by for i, by in self.changes.items() if by}:
            await self.shared.change_all(changed)
        self.read.clear()
        self.changes.clear()


def workload(redis: Redis | None, key: str) -> Workload:
    return RedisWorkload(redis, key) if redis is not None else InMemoryWorkload()
