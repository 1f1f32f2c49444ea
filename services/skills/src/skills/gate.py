"""Redis in front of a flash sale: it answers what Postgres has said already, so that the
thousands who ask after the last place went do not each open a transaction to hear "sold out".

Postgres still decides every seat; the gate only sheds load, and everything it holds is either
rebuilt from Postgres or merely an earlier answer:
- each member who reaches Postgres for a session is put in the session's set of known members
  first, before Postgres decides: a known member always goes on to Postgres, which tells them
  what they have (and answers their retries from what it stored);
- once Postgres answered "sold out" (no seat, no waitlist place), the session is marked full:
  anyone not known to the session is then told sold out at once, and that answer is kept under
  their member and Idempotency-Key for a day, so that a retry is answered the same (a key
  reused for another session is refused, as Postgres would);
- every second the seat sweep asks Postgres which marked sessions have a place again (a hold
  ran out, a member cancelled, the session closed) and lifts their marks: a place freed is
  offered to newcomers within about a second, as if they had asked that moment later. A mark
  also runs out by itself (`full_for`), in case no sweep runs.
Before the first mark, the known set is completed from Postgres (whoever was answered there or
holds a live booking in the session's scope), so a Redis that lost its keys never turns away a
member Postgres knows.

Who is not known to a full session is told sold out without more questions: a non-member hears
that rather than "not eligible", and a member holding a seat in another session of a course
booked once per course hears it rather than what they hold. With Redis unreachable, every
request goes on to Postgres.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta
from typing import Protocol

from prometheus_client import Counter
from redis.asyncio import Redis
from redis.exceptions import RedisError

from skills.errors import Refused
from skills.seats import SOLD_OUT, Answer

log = logging.getLogger(__name__)
GATE = Counter(
    "skills_seat_gate_total",
    "Hold requests at the seat gate: told sold out (again, for a retry), passed on to Postgres, "
    "or passed on because Redis failed",
    ["verdict"],
)
KNOWN_CHUNK = 1000
# KEYS: the request's kept answer (the session it was told sold out), the session's full mark,
# its known members. ARGV: the session, the member, the kept answer's and the known set's
# lifetimes (seconds).
_ASK = """
local kept = redis.call('GET', KEYS[1])
if kept then return kept end
if redis.call('EXISTS', KEYS[2]) == 1 and redis.call('SISMEMBER', KEYS[3], ARGV[2]) == 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
  return ARGV[1]
end
redis.call('SADD', KEYS[3], ARGV[2])
redis.call('EXPIRE', KEYS[3], ARGV[4])
return false
"""

Known = Callable[[], Awaitable[Iterable[uuid.UUID]]]
StillFull = Callable[[list[uuid.UUID]], Awaitable[set[uuid.UUID]]]


class SeatGate(Protocol):
    async def ask(
        self, member_id: uuid.UUID, request_key: str, session_id: uuid.UUID
    ) -> Answer | None:
        """The answer, if the gate has it; None: ask Postgres."""
        ...

    async def sold_out(self, session_id: uuid.UUID, known: Known) -> None:
        """Postgres answered a request "sold out" (committed); `known` lists whom Postgres
        knows for the session, read only if the gate must complete its set."""
        ...

    async def reopen(self, still_full: StillFull) -> int:
        """Lift the marks of sessions `still_full` (Postgres) no longer counts; how many."""
        ...


class OpenGate:
    """No Redis (a lone service, unit tests): every request goes to Postgres."""

    async def ask(
        self, member_id: uuid.UUID, request_key: str, session_id: uuid.UUID
    ) -> Answer | None:
        return None

    async def sold_out(self, session_id: uuid.UUID, known: Known) -> None:
        return None

    async def reopen(self, still_full: StillFull) -> int:
        return 0


class RedisSeatGate:
    def __init__(
        self,
        redis: Redis,
        prefix: str = "skills:",
        *,
        full_for: timedelta = timedelta(minutes=1),
        answers_for: timedelta = timedelta(days=1),
        known_for: timedelta = timedelta(days=7),
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.full_seconds = int(full_for.total_seconds())
        self.answer_seconds = int(answers_for.total_seconds())
        self.known_seconds = int(known_for.total_seconds())
        self.marked = f"{prefix}sessions-marked-full"
        self._ask = redis.register_script(_ASK)

    async def ask(
        self, member_id: uuid.UUID, request_key: str, session_id: uuid.UUID
    ) -> Answer | None:
        try:
            told = await self._ask(
                keys=[
                    f"{self.prefix}seat-answer:{member_id}:{request_key}",
                    self._key("session-full", session_id),
                    self._key("session-known", session_id),
                ],
                args=[str(session_id), str(member_id), self.answer_seconds, self.known_seconds],
            )
        except RedisError as error:
            GATE.labels("unavailable").inc()
            log.warning("seat gate unavailable, asking Postgres: %s", type(error).__name__)
            return None
        if told is None:
            GATE.labels("passed").inc()
            return None
        if _text(told) != str(session_id):
            raise Refused("this Idempotency-Key was used for another session")
        GATE.labels("sold_out").inc()
        return SOLD_OUT

    async def sold_out(self, session_id: uuid.UUID, known: Known) -> None:
        try:
            await self._complete_known(session_id, known)
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.set(self._key("session-full", session_id), "1", ex=self.full_seconds)
                pipe.sadd(self.marked, str(session_id))
                await pipe.execute()
        except RedisError as error:
            log.warning("seat gate unavailable, session not marked: %s", type(error).__name__)

    async def reopen(self, still_full: StillFull) -> int:
        try:
            marked = [uuid.UUID(_text(m)) for m in await self.redis.smembers(self.marked)]
            if not marked:
                return 0
            full = await still_full(marked)
            lifted = [m for m in marked if m not in full]
            if lifted:
                async with self.redis.pipeline(transaction=False) as pipe:
                    pipe.delete(*(self._key("session-full", m) for m in lifted))
                    pipe.srem(self.marked, *(str(m) for m in lifted))
                    await pipe.execute()
        except RedisError as error:
            log.warning("seat gate unavailable, marks not checked: %s", type(error).__name__)
            return 0
        return len(lifted)

    async def _complete_known(self, session_id: uuid.UUID, known: Known) -> None:
        complete = self._key("session-known-complete", session_id)
        if await self.redis.exists(complete):
            return
        members = [str(m) for m in await known()]
        known_key = self._key("session-known", session_id)
        async with self.redis.pipeline(transaction=False) as pipe:
            for start in range(0, len(members), KNOWN_CHUNK):
                pipe.sadd(known_key, *members[start : start + KNOWN_CHUNK])
            # the set outlives its mark of completeness: each request extends the set
            pipe.expire(known_key, self.known_seconds)
            pipe.set(complete, "1", ex=self.known_seconds)
            await pipe.execute()

    def _key(self, name: str, session_id: uuid.UUID) -> str:
        return f"{self.prefix}{name}:{session_id}"


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def seat_gate(redis: Redis | None, prefix: str = "skills:", full_for: float = 60) -> SeatGate:
    if redis is None:
        return OpenGate()
    return RedisSeatGate(redis, prefix, full_for=timedelta(seconds=full_for))
