"""Where visitors are and how busy: the nearest ones to a hospital, and their open visits.

With Redis (REDIS_URL), stations are a GEO set (GEOSEARCH finds the nearest) and open visits a
hash (HINCRBY as offers are made and visits recorded). The counts only steer the balance between
visitors; the database is their truth, and the deadline sweep writes its counts back regularly, so
an increment lost to a rolled-back transaction does not last. Without Redis (a lone service on
SQLite, unit tests) both live in memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol, cast

from redis.asyncio import Redis
from redis.typing import EncodableT

from aid.injury.rules import Hospital, distance_km

Station = tuple[str, float, float]  # visitor id, latitude, longitude
Nearby = list[tuple[str, float]]  # visitor id, km; nearest first


class VisitorIndex(Protocol):
    async def load(self, stations: Sequence[Station]) -> None: ...

    async def nearest(self, hospital: Hospital, count: int) -> Nearby: ...

    async def open_visits(self, visitor_ids: Iterable[str]) -> dict[str, int]: ...

    async def count_visit(self, visitor_id: str, change: int) -> None: ...

    async def reset_open_visits(self, counts: Mapping[str, int]) -> None: ...


class RedisVisitorIndex:
    """Stations change with the roster only, so each hospital's nearest visitors are searched
    once per process and kept."""

    def __init__(self, redis: Redis, prefix: str = "aid:") -> None:
        self.redis = redis
        self.stations = prefix + "visitor-stations"
        self.loads = prefix + "visitor-open-visits"
        self.searched: dict[tuple[str, int], Nearby] = {}

    async def load(self, stations: Sequence[Station]) -> None:
        self.searched.clear()
        if not stations:
            return
        members: list[float | str] = []
        for visitor_id, latitude, longitude in stations:
            members += [longitude, latitude, visitor_id]
        await self.redis.geoadd(self.stations, members)

    async def nearest(self, hospital: Hospital, count: int) -> Nearby:
        key = (hospital.hospital_id, count)
        if key not in self.searched:
            self.searched[key] = await self._search(hospital, count)
        return self.searched[key]

    async def _search(self, hospital: Hospital, count: int) -> Nearby:
        found = await self.redis.geosearch(
            self.stations,
            longitude=hospital.longitude,
            latitude=hospital.latitude,
            radius=200,
            unit="km",
            sort="ASC",
            count=count,
            withdist=True,
        )
        return [(_text(member), float(km)) for member, km in found]  # type: ignore[str-unpack,arg-type]

    async def open_visits(self, visitor_ids: Iterable[str]) -> dict[str, int]:
        ids = list(visitor_ids)
        if not ids:
            return {}
        counts = await self.redis.hmget(self.loads, ids)
        return {v: int(n or 0) for v, n in zip(ids, counts, strict=True)}

    async def count_visit(self, visitor_id: str, change: int) -> None:
        await self.redis.hincrby(self.loads, visitor_id, change)

    async def reset_open_visits(self, counts: Mapping[str, int]) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(self.loads)
            if counts:
                pipe.hset(self.loads, mapping=cast("Mapping[EncodableT, EncodableT]", counts))
            await pipe.execute()


class InMemoryVisitorIndex:
    def __init__(self) -> None:
        self.stations: dict[str, tuple[float, float]] = {}
        self.loads: dict[str, int] = {}

    async def load(self, stations: Sequence[Station]) -> None:
        self.stations.update({v: (lat, lon) for v, lat, lon in stations})

    async def nearest(self, hospital: Hospital, count: int) -> Nearby:
        ranked = sorted(
            (distance_km(hospital.latitude, hospital.longitude, lat, lon), visitor_id)
            for visitor_id, (lat, lon) in self.stations.items()
        )
        return [(visitor_id, km) for km, visitor_id in ranked[:count]]

    async def open_visits(self, visitor_ids: Iterable[str]) -> dict[str, int]:
        return {v: self.loads.get(v, 0) for v in visitor_ids}

    async def count_visit(self, visitor_id: str, change: int) -> None:
        self.loads[visitor_id] = self.loads.get(visitor_id, 0) + change

    async def reset_open_visits(self, counts: Mapping[str, int]) -> None:
        self.loads = dict(counts)


def _text(member: bytes | str) -> str:
    return member.decode() if isinstance(member, bytes) else member
