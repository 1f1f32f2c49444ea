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
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gonghui_contracts import Catalog, ContractViolation, Envelope, RawEnvelope
from gonghui_contracts.access import Partner, partner_topic, sender_mismatches
from gonghui_contracts.topics import BY_NAME, DLQ_SUFFIX
from servicekit import inbox, outbox, telemetry
from servicekit.errors import PermanentError, is_transient, safe_reason
from servicekit.metrics import BATCH_SECONDS, CONSUMED, DEAD_LETTERS, FAILED, HANDLER_SECONDS
from servicekit.outbox import OutgoingRecord
from servicekit.unit import Unit

log = logging.getLogger(__name__)

Handler = Callable[[Unit, Envelope[Any]], Awaitable[None]]
Rejecter = Callable[[Unit, RawEnvelope, ContractViolation], Awaitable[None]]

REPLAY_HEADER = "dlq.replayed-from"


@dataclass(frozen=True)
class Subscription:
    """A topic and what to do with each of its events.

    `reject`, if given, answers an event whose envelope is valid but whose payload breaks the
    contracts (a partner's bad request gets a rejection outcome); without it such an event is a
    dead letter.
    """

    topic: str
    handle: Handler
    reject: Rejecter | None = None


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
        spec = BY_NAME.get(subscription.topic)
        # A registry topic takes only the events it carries; a topic outside it (a test's), any.
        self.carried = {p.EVENT_TYPE for p in spec.carries} if spec else None
        # The topic read (its registry name), whose dead letters go to its .dlq twin
        self.source = (
            partner_topic(spec, sender.partner_id) if spec and sender else subscription.topic
        )

    async def process(self, records: Sequence[IncomingRecord]) -> list[Settled]:
        """Handle and commit a batch; retries transient failures, then raises so the caller
        hands the records back to Kafka uncommitted."""
        started = time.monotonic()
        items = [self._item(record) for record in records]
        delay = 0.1
        while True:
            try:
                settled = await self._commit_batch(items)
                break
            except Exception as error:
                if (
                    not is_transient(error)
                    or time.monotonic() - started > self.transient_retry_seconds
                ):
                    raise
                FAILED.labels(self.subscription.topic, self.group, "transient").inc()
                log.warning(
                    "batch of %d failed transiently (%s); retrying", len(items), safe_reason(error)
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        self.on_commit()
        BATCH_SECONDS.labels(self.subscription.topic).observe(time.monotonic() - started)
        for outcome in settled:
            CONSUMED.labels(self.subscription.topic, self.group, outcome.value).inc()
            if outcome is Settled.DEAD_LETTER:
                DEAD_LETTERS.labels(self.subscription.topic, self.group).inc()
        return settled

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
            fresh = await inbox.claim_many(
                session,
                self.group,
                [item.key for item in items],
                replayed={item.key for item in items if item.replayed},
            )
            staged: list[OutgoingRecord] = []
            settled = []
            for item in items:
                is_first = item.key in fresh
                fresh.discard(item.key)  # a second copy in the same batch is a duplicate
                settled.append(await self._settle(session, item, is_first, staged, isolated))
            await outbox.write(session, staged)
        return settled

    async def _settle(
        self,
        session: AsyncSession,
        item: _Item,
        fresh: bool,
        staged: list[OutgoingRecord],
        isolated: bool,
    ) -> Settled:
        started = time.monotonic()
        record = item.record
        with telemetry.process_span(
            record.topic,
            record.headers,
            group=self.group,
            partition=record.partition,
            offset=record.offset,
        ) as span:
            if item.head is not None:
                span.set_attribute("messaging.message.id", item.key)
                span.set_attribute("gonghui.event_type", item.head.event_type)
            if self.sender is not None:
                span.set_attribute("gonghui.partner_id", self.sender.partner_id)
            try:
                if not fresh:
                    outcome = Settled.DUPLICATE
                elif item.violation is not None:
                    raise _DeadLetter(safe_reason(item.violation), attempts=1)
                else:
                    outcome = await self._handle(session, item, staged, isolated)
            except _DeadLetter as dead:
                telemetry.record_error(span, dead)
                await inbox.set_outcome(session, self.group, item.key, inbox.Outcome.DEAD_LETTER)
                log.error("dead letter from %s: %s", record.position, dead.reason)
                staged.append(
                    dead_letter_record(
                        record,
                        dead.reason,
                        self.group,
                        dead.attempts,
                        self.source,
                        keep_bytes=self.max_record_bytes,
                    )
                )
                outcome = Settled.DEAD_LETTER
            span.set_attribute("gonghui.outcome", outcome.value)
        HANDLER_SECONDS.labels(record.topic).observe(time.monotonic() - started)
        return outcome

    async def _handle(
        self, session: AsyncSession, item: _Item, staged: list[OutgoingRecord], isolated: bool
    ) -> Settled:
        if not isolated:
            unit = Unit(session, self.producer, self.sender)
            try:
                outcome = await self._dispatch(unit, item)
            except (_DeadLetter, _Isolate):
                raise
            except Exception as error:
                if is_transient(error):
                    raise
                raise _Isolate from error
            staged.extend(unit.unwritten)
            return outcome
        for attempt in range(1, self.max_attempts + 1):
            unit = Unit(session, self.producer, self.sender)
            try:
                async with session.begin_nested():
                    outcome = await self._dispatch(unit, item)
                staged.extend(unit.unwritten)
                return outcome
            except _DeadLetter:
                raise
            except PermanentError as error:
                raise _DeadLetter(safe_reason(error), attempts=attempt) from None
            except Exception as error:
                if is_transient(error):
                    raise
                FAILED.labels(item.record.topic, self.group, "handler").inc()
                log.warning(
                    "handling %s failed (try %d of %d): %s",
                    item.key,
                    attempt,
                    self.max_attempts,
                    safe_reason(error),
                    exc_info=True,
                )
                if attempt == self.max_attempts:
                    raise _DeadLetter(safe_reason(error), attempts=attempt) from None
                await asyncio.sleep(0.05 * 2**attempt)
        raise AssertionError("unreachable")

    async def _dispatch(self, unit: Unit, item: _Item) -> Settled:
        """Decode the payload and hand it to the subscription; a payload that breaks the
        contracts, or names another partner than its sender, goes to the rejecter if there is
        one, else it is a dead letter (before any write, so no savepoint is needed for it)."""
        assert item.head is not None
        try:
            if self.carried is not None and item.head.event_type not in self.carried:
                raise ContractViolation(
                    [f"event_type: {item.head.event_type[:120]!r} is not carried by this topic"]
                )
            event = self.catalog.decode(item.record.value, item.head)
            if self.sender is not None and (
                mismatches := sender_mismatches(event.data, self.sender)
            ):
                raise ContractViolation(mismatches)
        except ContractViolation as violation:
            if self.subscription.reject is None:
                raise _DeadLetter(safe_reason(violation), attempts=1) from None
            await self.subscription.reject(unit, item.head, violation)
            await inbox.set_outcome(unit.session, self.group, item.key, inbox.Outcome.REJECTED)
            return Settled.REJECTED
        await self.subscription.handle(unit, event)
        return Settled.HANDLED


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
