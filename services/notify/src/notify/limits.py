"""How many notices one recipient may get in an hour (gateways charge per message, and nobody
wants a flood). Counted in Redis; a notice over the limit waits for the next hour, it is not
dropped: the database keeps it."""

from __future__ import annotations

import time
from typing import Any


class HourlyLimit:
    def __init__(self, counter: Any, per_hour: int, prefix: str = "") -> None:
        """`counter`: an asyncio Redis client, or any object with async incr and expire;
        `prefix`: the environment's (its topic prefix), so that two sharing a Redis count
        apart."""
        self.counter = counter
        self.per_hour = per_hour
        self.prefix = prefix

    async def allow(self, recipient: str, now: float | None = None) -> bool:
        hour = int((now or time.time()) // 3600)
        key = f"{self.prefix}notify:sent:{recipient}:{hour}"  # recipients are ids, not phones
        count = int(await self.counter.incr(key))
        if count == 1:
            await self.counter.expire(key, 7200)
        return count <= self.per_hour

    @staticmethod
    def next_hour(now: float | None = None) -> float:
        return (int((now or time.time()) // 3600) + 1) * 3600.0
