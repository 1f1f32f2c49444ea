"""A unit of work: one database transaction, and the events it causes, committed together."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Iterable, Mapping
from contextlib import AbstractContextManager, asynccontextmanager, nullcontext
from typing import Any, TypeVar

from opentelemetry.context import Context
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gonghui_contracts import Envelope, EnvelopeHead, EventPayload, topic_for
from gonghui_contracts.access import Partner, is_partner_family, partner_topic
from servicekit import outbox, telemetry
from servicekit.outbox import OutgoingRecord

P = TypeVar("P", bound=EventPayload)
M = TypeVar("M")
T = TypeVar("T")


class Unit:
    """What a handler or an HTTP endpoint works with: a session inside an open transaction,
    and `emit` for the events its change causes. It never commits: its owner does, once.

    `sender` is the partner whose own topic carried the record being handled (the broker
    authenticated it), None for anything else."""

    def __init__(
        self,
        session: AsyncSession,
        producer: str,
        sender: Partner | None = None,
        *,
        traces: Mapping[uuid.UUID, Context] | None = None,
    ) -> None:
        self.session = session
        self.producer = producer
        self.sender = sender
        # The trace context of each record being handled, by event id: what a batch handler
        # emits or stores for an event joins that event's trace.
        self.traces: Mapping[uuid.UUID, Context] = traces or {}
        self.staged: list[OutgoingRecord] = []
        self._written = 0  # how many of `staged` are in the outbox already (`write_events`)
        # Kept with the session: the units of one consumed batch share its transaction.
        self._added: dict[tuple[type, Hashable], object] = session.info.setdefault(
            "servicekit.added", {}
        )
        self._groups: dict[tuple[type, Hashable], list[object]] = session.info.setdefault(
            "servicekit.added-groups", {}
        )

    def emit(
        self,
        payload: P,
        *,
        key: str,
        cause: EnvelopeHead | None = None,
        topic: str | None = None,
        to: str | None = None,
    ) -> Envelope[P]:
        """Stage an event for the outbox; it is published after the transaction commits.

        An answer to a partner goes to that partner's own topic of its family: partner `to`,
        by default the sender of what is being handled. The trace context of `cause` (the
        current one without a cause) is stored with it, so the flow stays one trace.
        """
        envelope = Envelope.wrap(payload, key=key, producer=self.producer, cause=cause)
        self.stage(
            OutgoingRecord(
                message_id=str(envelope.event_id),
                topic=topic or self._topic_for(payload, to),
                key=key.encode(),
                value=envelope.to_bytes(),
                headers=self.trace_headers(cause),
            )
        )
        return envelope

    def trace_headers(self, cause: EnvelopeHead | None = None) -> dict[str, str]:
        """The trace context of `cause` if it is a record being handled, else the current one,
        as headers: to send, or to store with what continues the flow later."""
        trace_context = self.traces.get(cause.event_id) if cause is not None else None
        return telemetry.inject({}, trace_context)

    def traced(self, event: EnvelopeHead | None) -> AbstractContextManager[None]:
        """Run in the trace of `event`, a record being handled (as `each` does for a handler
        of one event at a time); as is, for no event or one not being handled."""
        trace_context = self.traces.get(event.event_id) if event is not None else None
        return telemetry.attached(trace_context) if trace_context is not None else nullcontext()

    @property
    def partner(self) -> Partner:
        """The sender, for a handler of a partners' intake family (which always has one)."""
        if self.sender is None:
            raise LookupError("this record did not come from a partner's own topic")
        return self.sender

    def _topic_for(self, payload: EventPayload, to: str | None) -> str:
        spec = topic_for(type(payload))
        if not is_partner_family(spec):
            return spec.name
        partner = to or (self.sender.partner_id if self.sender else None)
        if partner is None:
            raise ValueError(f"{spec.name} answers one partner: emit it with to=<partner id>")
        return partner_topic(spec, partner)

    def stage(self, record: OutgoingRecord) -> None:
        self.staged.append(record)

    @property
    def unwritten(self) -> list[OutgoingRecord]:
        """The events staged and not yet in the outbox: its owner writes them before commit."""
        return self.staged[self._written :]

    async def write_events(self) -> None:
        """Write the events staged so far to the outbox now rather than at commit: for a
        transaction whose last statement must be the one that locks a contended row, so that
        the row stays locked for the commit alone."""
        await outbox.write(self.session, self.unwritten)
        self._written = len(self.staged)

    def add(self, row: object, *, key: Hashable, group: Hashable | None = None) -> None:
        """Add `row` to the session, findable by `added` under `key` (and by `added_in` among
        the rows of `group`) while the transaction lasts."""
        self.session.add(row)
        self._added[type(row), key] = row
        if group is not None:
            self._groups.setdefault((type(row), group), []).append(row)

    def added(self, model: type[M], key: Hashable) -> M | None:
        """The row of `model` added under `key` in this transaction (by this unit or another of
        the same consumed batch), if any. Handlers that run with autoflush off, so that a whole
        batch's inserts reach the database together at commit, look here before they query for
        a row the same batch may have made."""
        row = self._added.get((model, key))
        # A row whose savepoint was rolled back has left the session: it was never added.
        return row if isinstance(row, model) and row in self.session else None

    def added_under_any(self, model: type[M], keys: Iterable[Hashable]) -> M | None:
        """The row of `model` added under the first of `keys` that has one (a lookup value made
        by each key of a rotating key ring), if any."""
        return next(filter(None, (self.added(model, key) for key in keys)), None)

    def added_in(self, model: type[M], group: Hashable) -> list[M]:
        """The rows of `model` added in `group` in this transaction (e.g. the cases of one
        employer a consumed batch opened), for counts that must include what is not written yet."""
        rows = self._groups.get((model, group), [])
        return [row for row in rows if isinstance(row, model) and row in self.session]


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
            await outbox.write(session, unit.unwritten)
        if unit.staged:
            self.on_commit()

    async def once_more_on_conflict(self, work: Callable[[Unit], Awaitable[T]]) -> T:
        """Run `work` in a unit; if its commit meets a row another transaction inserted at the
        same moment (a unique key: the same request, the same case), run it once more, when it
        will find that row and answer as for a repeat."""
        try:
            async with self() as unit:
                return await work(unit)
        except IntegrityError:
            async with self() as unit:
                return await work(unit)
