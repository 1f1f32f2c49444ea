"""How many notices one recipient may get in an hour (gateways charge per message, and nobody
wants a flood). Counted in Redis; a notice over the limit waits for the next hour, it is not
dropped: the database keeps it."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from typing import Any

# KEYS: the recipients' counters this hour; ARGV[1]: their time to live; ARGV[i + 1]: how many
# notices to count for KEYS[i]. Returns each counter after counting.
_COUNT = """
local totals = {}
for i, key in ipairs(KEYS) do
  totals[i] = redis.call('INCRBY', key, ARGV[i + 1])
  redis.call('EXPIRE', key, ARGV[1], 'NX')
end
return totals
"""


class HourlyLimit:
    def __init__(self, counter: Any, per_hour: int, prefix: str = "") -> None:
        """`counter`: an asyncio Redis client (it runs a script);
        `prefix`: the environment's (its topic prefix), so that two sharing a Redis count
        apart."""
        self.per_hour = per_hour
        self.prefix = prefix
        self._count = counter.register_script(_COUNT)

    async def allow_all(self, recipients: Sequence[str], now: float | None = None) -> list[bool]:
        """Count one notice to each of `recipients` (a recipient may come more than once) in
        one round trip and one reply; whether each may be sent this hour."""
        hour = int((now or time.time()) // 3600)
        wanted = Counter(recipients)
        totals = await self._count(
            keys=[f"{self.prefix}notify:sent:{r}:{hour}" for r in wanted],  # ids, not phones
            args=[7200, *wanted.values()],
        )
        # the recipient's count this hour before this batch, then one more per notice
        counted = {r: int(total) - wanted[r] for r, total in zip(wanted, totals, strict=True)}
        allowed = []
        for recipient in recipients:
            counted[recipient] += 1
            allowed.append(counted[recipient] <= self.per_hour)
        return allowed

    @staticmethod
    def next_hour(now: float | None = None) -> float:
        return (int((now or time.time()) // 3600) + 1) * 3600.0
