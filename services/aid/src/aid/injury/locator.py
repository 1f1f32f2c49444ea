"""Where visitors are: the nearest ones to a hospital.

With Redis (REDIS_URL), visitors' stations are a GEO set and GEOSEARCH answers; without it (a
lone service on SQLite, unit tests) the distances are computed over the roster in memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from redis.asyncio import Redis

from aid.injury.rules import Hospital, distance_km

Station = tuple[str, float, float]  # visitor id, latitude, longitude
Nearby = list[tuple[str, float]]  # visitor id, km; nearest first


class VisitorLocator(Protocol):
    async def load(self, stations: Sequence[Station]) -> None: ...

    async def nearest(self, hospital: Hospital, count: int) -> Nearby: ...


class GeoIndex:
    """Visitors' stations in a Redis GEO set."""

    def __init__(self, redis: Redis, key: str = "aid:visitor-stations") -> None:
        self.redis = redis
        self.key = key

    async def load(self, stations: Sequence[Station]) -> None:
        if not stations:
            return
        members: list[float | str] = []
        for visitor_id, latitude, longitude in stations:
            members += [longitude, latitude, visitor_id]
        await self.redis.geoadd(self.key, members)

    async def nearest(self, hospital: Hospital, count: int) -> Nearby:
        found = await self.redis.geosearch(
            self.key,
            longitude=hospital.longitude,
            latitude=hospital.latitude,
            radius=200,
            unit="km",
            sort="ASC",
            count=count,
            withdist=True,
        )
        return [(_text(member), float(km)) for member, km in found]  # type: ignore[str-unpack,arg-type]


class InMemoryLocator:
    def __init__(self) -> None:
        self.stations: dict[str, tuple[float, float]] = {}

    async def load(self, stations: Sequence[Station]) -> None:
        self.stations.update({v: (lat, lon) for v, lat, lon in stations})

    async def nearest(self, hospital: Hospital, count: int) -> Nearby:
        ranked = sorted(
            (distance_km(hospital.latitude, hospital.longitude, lat, lon), visitor_id)
            for visitor_id, (lat, lon) in self.stations.items()
        )
        return [(visitor_id, km) for km, visitor_id in ranked[:count]]


def _text(member: bytes | str) -> str:
    return member.decode() if isinstance(member, bytes) else member
