"""How many notices one recipient may get in an hour (gateways charge per message, and nobody
wants a flood). Counted in Redis; a notice over the limit waits for the next hour, it is not
dropped: the database keeps it."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from typing import Any


class HourlyLimit:
    def __init__(self, counter: Any, per_hour: int, prefix: str = "") -> None:
        """`counter`: an asyncio Redis client (its pipelines are used);
        `prefix`: the environment's (its topic prefix), so that two sharing a Redis count
        apart."""
        self.counter = counter
        self.per_hour = per_hour
        self.prefix = prefix

    async def allow_all(self, recipients: Sequence[str], now: float | None = None) -> list[bool]:
        """Count one notice to each of `recipients` (a recipient may come more than once) in
        one round trip; whether each may be sent this hour."""
        hour = int((now or time.time()) // 3600)
        wanted = Counter(recipients)
        async with self.counter.pipeline(transaction=False) as pipe:
            for recipient, count in wanted.items():
                key = f"{self.prefix}notify:sent:{recipient}:{hour}"  # ids, not phones
                pipe.incrby(key, count)
                pipe.expire(key, 7200, nx=True)
            replies = await pipe.execute()
        # the recipient's count this hour before this batch, then one more per notice
        counted = {r: int(total) - wanted[r] for r, total in zip(wanted, replies[::2], strict=True)}
        allowed = []
        for recipient in recipients:
            counted[recipient] += 1
            allowed.append(counted[recipient] <= self.per_hour)
        return allowed

    @staticmethod
    def next_hour(now: float | None = None) -> float:
        return (int((now or time.time()) // 3600) + 1) * 3600.0
