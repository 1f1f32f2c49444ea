"""Where visitors are: the nearest ones to a hospital.

With Redis (REDIS_URL), stations are a GEO set and GEOSEARCH finds the nearest; without it (a lone
service on SQLite, unit tests) they live in memory. How busy each visitor is, is the kit's
`Workload`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from redis.asyncio import Redis

from aid.injury.rules import Hospital, distance_km

Station = tuple[str, float, float]  # visitor id, latitude, longitude
Nearby = list[tuple[str, float]]  # visitor id, km; nearest first


class VisitorIndex(Protocol):
    async def load(self, stations: Sequence[Station]) -> None: ...

    async def nearest(self, hospital: Hospital, count: int) -> Nearby: ...


class RedisVisitorIndex:
    """Stations change with the roster only, so each hospital's nearest visitors are searched
    once per process and kept."""

    def __init__(self, redis: Redis, prefix: str = "aid:") -> None:
        self.redis = redis
        self.stations = prefix + "visitor-stations"
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


class InMemoryVisitorIndex:
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
