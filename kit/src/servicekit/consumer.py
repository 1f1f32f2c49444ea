"""Consuming: a batch of Kafka records becomes one database transaction.

The ids of the batch's events go into the inbox with their effects (a redelivered event has no
second effect), the events they cause go into the outbox, and the batch commits once. Offsets
are committed by the caller only after that commit, so nothing is acknowledged before it is
durable. If a handler fails, the batch is run again with one savepoint per record, so the
failing record is retried and, if need be, dead-lettered alone.

What cannot be handled goes to `<topic>.dlq` through the same outbox, with the original bytes and
headers, the reason and the consumer group: immediately for a record that breaks the contracts or
raises PermanentError, after `max_attempts` tries for any other error. Transient failures
(database or broker unreachable) retry the whole batch with backoff instead: the records are not
at fault.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from functools import cached_property
from typing import Any, TypeVar

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import SpanKind
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gonghui_contracts import Catalog, ContractViolation, Envelope, EventPayload, RawEnvelope
from gonghui_contracts.access import Partner, partner_topic, sender_mismatches
from gonghui_contracts.topics import BY_NAME, DLQ_SUFFIX, TopicSpec
from servicekit import inbox, outbox, telemetry
from servicekit.errors import PermanentError, is_transient, safe_reason
from servicekit.metrics import BATCH_SECONDS, CONSUMED, DEAD_LETTERS, FAILED, HANDLER_SECONDS
from servicekit.outbox import OutgoingRecord
from servicekit.unit import Unit

log = logging.getLogger(__name__)

BatchHandler = Callable[[Unit, Sequence[Envelope[Any]]], Awaitable[None]]
EventHandler = Callable[[Unit, Envelope[Any]], Awaitable[None]]
Rejecter = Callable[[Unit, RawEnvelope, ContractViolation], Awaitable[None]]

REPLAY_HEADER = "dlq.replayed-from"
_T = TypeVar("_T")


@dataclass(frozen=True)
class Subscription:
    """A topic and, for each event type it carries that matters here, the handler of a batch of
    such events: `Subscription(MEMBERSHIP_EVENTS, on={MemberJoined: enrol_all})`.

    A handler gets the records of its type that arrived in a row (so order per key holds across
    types), all in the unit's one transaction. Event types the topic carries and `on` does not
    name are taken as handled and have no effect. `topic` is the registry's TopicSpec, which must
    carry every type of `on`; a bare name only for a topic outside the registry (a test's).

    `reject`, if given, answers an event whose envelope is valid but whose payload breaks the
    contracts (a partner's bad request gets a rejection outcome); without it such an event is a
    dead letter.
    """

    topic: TopicSpec | str
    on: Mapping[type[EventPayload], BatchHandler]
    reject: Rejecter | None = None

    def __post_init__(self) -> None:
        if isinstance(self.topic, str) and self.topic in BY_NAME:
            raise TypeError(f"{self.topic} is in the registry: subscribe to its TopicSpec")
        spec = self.spec
        if spec is not None and (stray := [t for t in self.on if t not in spec.carries]):
            names = ", ".join(t.EVENT_TYPE for t in stray)
            raise TypeError(f"{spec.name} does not carry {names}")

    @property
    def name(self) -> str:
        return self.topic if isinstance(self.topic, str) else self.topic.name

    @property
    def spec(self) -> TopicSpec | None:
        return None if isinstance(self.topic, str) else self.topic

    def handler_of(self, event_type: str) -> BatchHandler | None:
        return self._by_event_type.get(event_type)

    @cached_property
    def _by_event_type(self) -> dict[str, BatchHandler]:
        return {payload.EVENT_TYPE: handler for payload, handler in self.on.items()}


def each(handler: EventHandler) -> BatchHandler:
    """A batch handler that hands its events to `handler` one at a time, each in its own
    record's trace: for the rare events, where a set-based handler would buy nothing."""

    async def one_by_one(unit: Unit, events: Sequence[Envelope[Any]]) -> None:
        for event in events:
            with unit.traced(event):
                await handler(unit, event)

    return one_by_one


@dataclass(frozen=True)
class IncomingRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_kafka(cls, record: Any) -> IncomingRecord:
        return cls(
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            key=record.key,
            value=record.value or b"",
            headers=telemetry.decode_headers(record.headers),
        )

    @property
    def position(self) -> str:
        return f"{self.topic}:{self.partition}:{self.offset}"

    @property
    def size(self) -> int:
        """Bytes of value, key and headers, about as Kafka counts them."""
        headers = sum(len(name) + len(value) for name, value in self.headers.items())
        return len(self.value) + len(self.key or b"") + headers


class Settled(StrEnum):
    HANDLED = "handled"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"
    DEAD_LETTER = "dead_letter"


class _DeadLetter(Exception):
    def __init__(self, reason: str, attempts: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.attempts = attempts


class _Isolate(Exception):
    """A handler failed while the batch ran without savepoints: run it again with one each."""


@dataclass(frozen=True)
class _Item:
    record: IncomingRecord
    head: RawEnvelope | None
    violation: ContractViolation | None

    @property
    def key(self) -> str:
        """The inbox key: the event id, or the position of a message without a valid envelope."""
        return str(self.head.event_id) if self.head else self.record.position

    @property
    def replayed(self) -> bool:
        return REPLAY_HEADER in self.record.headers


class BatchProcessor:
    """Handles batches optimistically: first in one transaction without savepoints (the common
    case, and the fast one); if a handler raises, the transaction is rolled back and the batch
    runs again with one savepoint per message, so the failing message is retried or
    dead-lettered alone while the others keep their effects.

    With a `sender`, it reads that partner's own topic of the subscription's family: handlers
    see the partner as `unit.sender`, and a payload naming another partner is rejected."""

    def __init__(
        self,
        subscription: Subscription,
        *,
        sessions: async_sessionmaker[AsyncSession],
        catalog: Catalog,
        group: str,
        producer: str,
        max_attempts: int = 3,
        transient_retry_seconds: float = 60.0,
        max_record_bytes: int = 512 * 1024,
        on_commit: Callable[[], Any] = lambda: None,
        sender: Partner | None = None,
    ) -> None:
        self.subscription = subscription
        self.sender = sender
        self.sessions = sessions
        self.catalog = catalog
        self.group = group
        self.producer = producer
        self.max_attempts = max_attempts
        self.transient_retry_seconds = transient_retry_seconds
        self.max_record_bytes = max_record_bytes
        self.on_commit = on_commit
        spec = subscription.spec
        # A registry topic takes only the events it carries; a topic outside it (a test's), any.
        self.carried = {p.EVENT_TYPE for p in spec.carries} if spec else None
        # The topic read (its registry name), whose dead letters go to its .dlq twin
        self.source = (
            partner_topic(spec, sender.partner_id) if spec and sender else subscription.name
        )

    async def process(self, records: Sequence[IncomingRecord]) -> list[Settled]:
        """Handle and commit a batch; retries transient failures, then raises so the caller
        hands the records back to Kafka uncommitted."""
        started = time.monotonic()
        items = [self._item(record) for record in records]
        settled = await self.retrying(lambda: self._commit_batch(items), len(items))
        self.on_commit()
        self.count(settled, started)
        return settled

    async def retrying(self, attempt: Callable[[], Awaitable[_T]], records: int) -> _T:
        """`attempt` again, with backoff, while it fails transiently, for at most
        `transient_retry_seconds`."""
        started = time.monotonic()
        delay = 0.1
        while True:
            try:
                return await attempt()
            except Exception as error:
                if (
                    not is_transient(error)
                    or time.monotonic() - started > self.transient_retry_seconds
                ):
                    raise
                FAILED.labels(self.subscription.name, self.group, "transient").inc()
                log.warning(
                    "batch of %d failed transiently (%s); retrying", records, safe_reason(error)
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    def count(self, settled: Sequence[Settled], started: float) -> None:
        BATCH_SECONDS.labels(self.subscription.name).observe(time.monotonic() - started)
        for outcome in settled:
            CONSUMED.labels(self.subscription.name, self.group, outcome.value).inc()
            if outcome is Settled.DEAD_LETTER:
                DEAD_LETTERS.labels(self.subscription.name, self.group).inc()

    def _item(self, record: IncomingRecord) -> _Item:
        size = record.size
        if size > self.max_record_bytes:
            return _Item(
                record,
                None,
                ContractViolation(
                    [f"(message): {size} bytes, more than the {self.max_record_bytes} accepted"]
                ),
            )
        try:
            return _Item(record, self.catalog.head(record.value), None)
        except ContractViolation as violation:
            return _Item(record, None, violation)

    async def _commit_batch(self, items: Sequence[_Item]) -> list[Settled]:
        try:
            return await self._run(items, isolated=False)
        except _Isolate:
            return await self._run(items, isolated=True)

    async def _run(self, items: Sequence[_Item], *, isolated: bool) -> list[Settled]:
        async with self.sessions() as session, session.begin():
            return await self.run_in(session, items, isolated=isolated)

    async def run_in(
        self, session: AsyncSession, items: Sequence[_Item], *, isolated: bool
    ) -> list[Settled]:
        """The batch's work in `session`'s transaction, which the caller commits."""
        fresh = await inbox.claim_many(
            session,
            self.group,
            [item.key for item in items],
            replayed={item.key for item in items if item.replayed},
        )
        batch = _Pass(self, session, isolated)
        try:
            for item in items:
                is_first = item.key in fresh
                fresh.discard(item.key)  # a second copy in the same batch is a duplicate
                await batch.take(item, is_first)
            await batch.flush()
        finally:
            batch.end_spans()
        await outbox.write(session, batch.staged)
        return batch.outcomes


async def process_together(
    batches: Sequence[tuple[BatchProcessor, Sequence[IncomingRecord]]],
) -> None:
    """The records of several topics, consumed together, in one transaction: one claim on the
    inbox a topic, one commit for all. If a handler fails, each topic's records run again in a
    transaction of their own (`BatchProcessor.process`), where the failing record is narrowed
    down, and the others keep their effects."""
    if len(batches) == 1:
        [(processor, records)] = batches
        await processor.process(records)
        return
    started = time.monotonic()
    work = [(processor, [processor._item(r) for r in records]) for processor, records in batches]
    first = work[0][0]

    async def all_at_once() -> list[list[Settled]]:
        async with first.sessions() as session, session.begin():
            return [await p.run_in(session, items, isolated=False) for p, items in work]

    try:
        settled = await first.retrying(all_at_once, sum(len(items) for _, items in work))
    except _Isolate:
        for processor, records in batches:
            await processor.process(records)
        return
    first.on_commit()
    for (processor, _), outcomes in zip(work, settled, strict=True):
        processor.count(outcomes, started)


class _Pass:
    """One pass over a batch, in one transaction: each record is settled as a duplicate, a
    dead letter or a rejection at once, or joins the run of decoded events of its type, which
    its handler gets whole when a record of another kind comes (order holds) or the batch ends.

    Without isolation a failing handler aborts the pass (`_Isolate`); with it, runs are one
    record long and each runs in a savepoint, retried and dead-lettered alone."""

    def __init__(self, processor: BatchProcessor, session: AsyncSession, isolated: bool) -> None:
        self.p = processor
        self.session = session
        self.isolated = isolated
        self.staged: list[OutgoingRecord] = []
        self.outcomes: list[Settled] = []
        self.spans: list[trace.Span] = []
        self.traces: dict[uuid.UUID, Context] = {}
        self.run: list[tuple[int, _Item, Envelope[Any]]] = []  # (index in outcomes, ...)
        self.run_handler: BatchHandler | None = None

    def unit(self) -> Unit:
        return Unit(self.session, self.p.producer, self.p.sender, traces=self.traces)

    async def take(self, item: _Item, fresh: bool) -> None:
        self._span(item)
        index = len(self.outcomes)
        self.outcomes.append(Settled.HANDLED)
        if not fresh:
            self._settled(index, Settled.DUPLICATE)
            return
        try:
            if item.violation is not None:
                raise _DeadLetter(safe_reason(item.violation), attempts=1)
            event = self._decode(item)
            if isinstance(event, ContractViolation):  # not valid, to be rejected
                await self.flush()
                await self._reject(item, event)
                self._settled(index, Settled.REJECTED)
                return
        except _DeadLetter as dead:
            await self.flush()
            await self._dead_letter(index, item, dead)
            return
        handler = self.p.subscription.handler_of(event.event_type)
        if handler is None:
            self._settled(index, Settled.HANDLED)  # an event this service has no use for
            return
        if handler is not self.run_handler or self.isolated:
            await self.flush()
        self.run_handler = handler
        self.run.append((index, item, event))

    async def flush(self) -> None:
        """Hand the waiting run to its handler."""
        run, handler = self.run, self.run_handler
        self.run, self.run_handler = [], None
        if not run or handler is None:
            return
        started = time.monotonic()
        if self.isolated:
            [(index, item, event)] = run
            try:
                await self._isolated(handler, item, event)
            except _DeadLetter as dead:
                await self._dead_letter(index, item, dead)
                return
        else:
            unit = self.unit()
            events = [event for _, _, event in run]
            try:
                with self._current(run):
                    await handler(unit, events)
            except (_DeadLetter, _Isolate):
                raise
            except Exception as error:
                if is_transient(error):
                    raise
                raise _Isolate from error
            self.staged.extend(unit.unwritten)
        HANDLER_SECONDS.labels(self.p.subscription.name).observe(time.monotonic() - started)
        for index, _, _ in run:
            self._settled(index, Settled.HANDLED)

    async def _isolated(self, handler: BatchHandler, item: _Item, event: Envelope[Any]) -> None:
        for attempt in range(1, self.p.max_attempts + 1):
            unit = self.unit()
            try:
                async with self.session.begin_nested():
                    with unit.traced(event):
                        await handler(unit, [event])
                self.staged.extend(unit.unwritten)
                return
            except PermanentError as error:
                raise _DeadLetter(safe_reason(error), attempts=attempt) from None
            except Exception as error:
                if is_transient(error):
                    raise
                FAILED.labels(item.record.topic, self.p.group, "handler").inc()
                log.warning(
                    "handling %s failed (try %d of %d): %s",
                    item.key,
                    attempt,
                    self.p.max_attempts,
                    safe_reason(error),
                    exc_info=True,
                )
                if attempt == self.p.max_attempts:
                    raise _DeadLetter(safe_reason(error), attempts=attempt) from None
                await asyncio.sleep(0.05 * 2**attempt)

    def _decode(self, item: _Item) -> Envelope[Any] | ContractViolation:
        """The typed event; if its payload breaks the contracts (or names another partner than
        its sender), the violation when the subscription answers such events, else a dead
        letter."""
        assert item.head is not None
        try:
            if self.p.carried is not None and item.head.event_type not in self.p.carried:
                raise ContractViolation(
                    [f"event_type: {item.head.event_type[:120]!r} is not carried by this topic"]
                )
            event = self.p.catalog.decode(item.record.value, item.head)
            if self.p.sender is not None and (
                mismatches := sender_mismatches(event.data, self.p.sender)
            ):
                raise ContractViolation(mismatches)
        except ContractViolation as violation:
            if self.p.subscription.reject is None:
                raise _DeadLetter(safe_reason(violation), attempts=1) from None
            return violation
        return event

    async def _reject(self, item: _Item, violation: ContractViolation) -> None:
        assert item.head is not None
        assert self.p.subscription.reject is not None
        unit = self.unit()
        with unit.traced(item.head):
            await self.p.subscription.reject(unit, item.head, violation)
        self.staged.extend(unit.unwritten)
        await inbox.set_outcome(self.session, self.p.group, item.key, inbox.Outcome.REJECTED)

    async def _dead_letter(self, index: int, item: _Item, dead: _DeadLetter) -> None:
        record = item.record
        telemetry.record_error(self.spans[index], dead)
        await inbox.set_outcome(self.session, self.p.group, item.key, inbox.Outcome.DEAD_LETTER)
        log.error("dead letter from %s: %s", record.position, dead.reason)
        self.staged.append(
            dead_letter_record(
                record,
                dead.reason,
                self.p.group,
                dead.attempts,
                self.p.source,
                keep_bytes=self.p.max_record_bytes,
            )
        )
        self._settled(index, Settled.DEAD_LETTER)

    def _settled(self, index: int, outcome: Settled) -> None:
        self.outcomes[index] = outcome
        self.spans[index].set_attribute("gonghui.outcome", outcome.value)

    def _span(self, item: _Item) -> trace.Span:
        record = item.record
        span = telemetry.start_process_span(
            record.topic,
            telemetry.extract(record.headers),
            group=self.p.group,
            partition=record.partition,
            offset=record.offset,
        )
        if item.head is not None:
            span.set_attribute("messaging.message.id", item.key)
            span.set_attribute("gonghui.event_type", item.head.event_type)
            self.traces[item.head.event_id] = trace.set_span_in_context(span)
        if self.p.sender is not None:
            span.set_attribute("gonghui.partner_id", self.p.sender.partner_id)
        self.spans.append(span)
        return span

    def _current(self, run: Sequence[tuple[int, _Item, Envelope[Any]]]) -> Any:
        """The context a handler runs in: its record's span for a run of one; for more, a span
        of the batch linked to each record's (what a handler emits joins its cause's trace
        through `Unit.emit` all the same)."""
        if len(run) == 1:
            return telemetry.attached(self.traces[run[0][2].event_id])
        return telemetry.batch_span(
            f"process {self.p.subscription.name} batch",
            [self.traces[event.event_id] for _, _, event in run],
            {"messaging.batch.message_count": len(run)},
            kind=SpanKind.CONSUMER,
        )

    def end_spans(self) -> None:
        for span in self.spans:
            span.end()


DLQ_PREFIX_BYTES = 4096
MAX_KEPT_HEADERS = 32


def dead_letter_record(
    record: IncomingRecord,
    reason: str,
    group: str,
    attempts: int,
    topic: str | None = None,
    *,
    keep_bytes: int = 512 * 1024,
) -> OutgoingRecord:
    """The original bytes and headers, plus why, where from and who gave up on them.
    `topic` is the registry name of the source topic (record.topic may carry a prefix). An
    original over `keep_bytes` is kept as its first 4 KiB and its SHA-256, so that a dead
    letter always fits the dead-letter topic; so are the first 32 headers, each cut to 1 KiB."""
    headers = {
        name[:200]: value[:1024]
        for name, value in list(record.headers.items())[:MAX_KEPT_HEADERS]
        if not name.startswith("dlq.")
    }
    value = record.value
    if len(value) > keep_bytes:
        headers["dlq.original-bytes"] = str(len(value))
        headers["dlq.original-sha256"] = hashlib.sha256(value).hexdigest()
        value = value[:DLQ_PREFIX_BYTES]
    headers.update(
        {
            "dlq.reason": reason[:2000],
            "dlq.topic": record.topic,
            "dlq.partition": str(record.partition),
            "dlq.offset": str(record.offset),
            "dlq.group": group,
            "dlq.attempts": str(attempts),
            "dlq.failed-at": datetime.now(UTC).isoformat(),
        }
    )
    return OutgoingRecord(
        # the same dead letter has the same id, and any group or topic name fits the column
        message_id="dlq:" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"{group}:{record.position}")),
        topic=(topic or record.topic) + DLQ_SUFFIX,
        key=record.key[:1024] if record.key else record.key,
        value=value,
        headers=headers,
    )
