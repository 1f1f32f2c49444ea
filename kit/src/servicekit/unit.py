"""A unit of work: one database transaction, and the events it causes, committed together."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gonghui_contracts import Envelope, EnvelopeHead, EventPayload, topic_for
from servicekit import outbox, telemetry
from servicekit.outbox import OutgoingRecord

P = TypeVar("P", bound=EventPayload)


class Unit:
    """What a handler or an HTTP endpoint works with: a session inside an open transaction,
    and `emit` for the events its change causes. It never commits: its owner does, once."""

    def __init__(self, session: AsyncSession, producer: str) -> None:
        self.session = session
        self.producer = producer
        self.staged: list[OutgoingRecord] = []

    def emit(
        self, payload: P, *, key: str, cause: EnvelopeHead | None = None, topic: str | None = None
    ) -> Envelope[P]:
        """Stage an event for the outbox; it is published after the transaction commits.

        The current trace context is stored with it, so the flow stays one trace.
        """
        envelope = Envelope.wrap(payload, key=key, producer=self.producer, cause=cause)
        self.stage(
            OutgoingRecord(
                message_id=str(envelope.event_id),
                topic=topic or topic_for(type(payload)).name,
                key=key.encode(),
                value=envelope.to_bytes(),
                headers=telemetry.inject({}),
            )
        )
        return envelope

    def stage(self, record: OutgoingRecord) -> None:
        self.staged.append(record)


class UnitOfWork:
    """Opens units: `async with uow() as unit:` commits once on success, rolls back on error,
    then, if the unit emitted events, tells the outbox relay there is something to publish.
    (Only then: a background worker whose empty passes woke itself would never rest.)"""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        producer: str,
        on_commit: Callable[[], Any] = lambda: None,
    ) -> None:
        self.sessions = sessions
        self.producer = producer
        self.on_commit = on_commit

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[Unit]:
        async with self.sessions() as session, session.begin():
            unit = Unit(session, self.producer)
            yield unit
            await outbox.write(session, unit.staged)
        if unit.staged:
            self.on_commit()
