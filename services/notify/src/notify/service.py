"""notify's use cases: record the notices an event calls for; send the due ones."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind
from sqlalchemy import Row, select, update

from gonghui_contracts import Envelope
from gonghui_contracts.events import NoticeFailed, NoticeSent
from notify import domain, templates
from notify.channels import Channel, ChannelError, Outgoing
from notify.limits import HourlyLimit
from notify.models import Notice
from servicekit import Unit, UnitOfWork, telemetry
from servicekit.db import insert_rows


def _now() -> datetime:
    return datetime.now(UTC)


async def record_notices(unit: Unit, events: Sequence[Envelope[Any]], locale: str) -> int:
    """Store the notices `events` call for, once each, in one insert (after one lookup of those
    recorded already: an event that came again, a replayed dead letter); returns how many are
    new. Each notice keeps its cause's trace context, so sending it continues that trace."""
    wanted = [(event, domain.notices_for(event.data)) for event in events]
    wanted = [(event, requests) for event, requests in wanted if requests]
    if not wanted:
        return 0
    recorded = set(
        (
            await unit.session.execute(
                select(Notice.cause_event_id, Notice.recipient, Notice.template).where(
                    Notice.cause_event_id.in_({event.event_id for event, _ in wanted})
                )
            )
        )
        .tuples()
        .all()
    )
    now = _now()
    rows = []
    for event, requests in wanted:
        trace_headers = json.dumps(unit.trace_headers(event))
        for request in requests:
            told = (event.event_id, request.recipient, request.template)
            if told in recorded:
                continue
            recorded.add(told)
            used_locale, body = templates.render(request.template, locale, request.values)
            rows.append(
                {
                    "notice_id": uuid.uuid4(),
                    "recipient": request.recipient,
                    "template": request.template,
                    "locale": used_locale,
                    "body": body,
                    "cause_event_id": event.event_id,
                    "correlation_id": event.correlation_id,
                    "trace_headers": trace_headers,
                    "status": "pending",
                    "attempts": 0,
                    "next_attempt_at": now,
                    "created_at": now,
                }
            )
    if rows:
        await insert_rows(unit.session, Notice, rows)
    return len(rows)


DUE_COLUMNS = (  # what sending a notice reads: plain rows, no ORM objects
    Notice.notice_id,
    Notice.recipient,
    Notice.template,
    Notice.locale,
    Notice.body,
    Notice.cause_event_id,
    Notice.correlation_id,
    Notice.trace_headers,
    Notice.attempts,
)
Due = Row[Any]


class NoticeSender:
    """Sends due notices through the channel, a batch at a time, and records what happened.

    A notice whose send succeeded but whose record did not commit (a crash in between) is sent
    again: receivers drop the repeat by its Idempotency-Key (the notice id).
    """

    def __init__(
        self,
        uow: UnitOfWork,
        channel: Channel,
        *,
        max_attempts: int = 5,
        batch_size: int = 500,
        concurrency: int = 32,
        limit: HourlyLimit | None = None,
    ) -> None:
        self.uow = uow
        self.channel = channel
        self.limit = limit
        self.max_attempts = max_attempts
        self.batch_size = batch_size
        self._slots = asyncio.Semaphore(concurrency)

    async def send_due(self) -> bool:
        """Send one batch; True if the batch was full (more may be due). The recipients' hourly
        counts are taken in one round trip, and the sent notices recorded in one statement."""
        with telemetry.quiet():
            async with self.uow() as unit:
                due = list(
                    await unit.session.execute(
                        select(*DUE_COLUMNS)
                        .where(Notice.status == "pending", Notice.next_attempt_at <= _now())
                        .order_by(Notice.next_attempt_at)
                        .limit(self.batch_size)
                        .with_for_update(skip_locked=True)
                    )
                )
                if not due:
                    return False
                causes = [telemetry.extract(json.loads(notice.trace_headers)) for notice in due]
                allowed = await self._allowed(due, causes)
                results = await asyncio.gather(
                    *(
                        self._send(notice, cause, ok)
                        for notice, cause, ok in zip(due, causes, allowed, strict=True)
                    )
                )
                sent = []
                for notice, (error, span_context) in zip(due, results, strict=True):
                    with telemetry.attached(
                        trace.set_span_in_context(NonRecordingSpan(span_context))
                    ):
                        if error is None:
                            sent.append(notice.notice_id)
                            self._tell(unit, notice, NoticeSent, attempts=notice.attempts + 1)
                        else:
                            await self._settle_unsent(unit, notice, error)
                if sent:
                    await unit.session.execute(
                        update(Notice)
                        .where(Notice.notice_id.in_(sent))
                        .values(status="sent", sent_at=_now(), attempts=Notice.attempts + 1)
                        .execution_options(synchronize_session=False)
                    )
        return len(due) >= self.batch_size

    async def _allowed(self, due: list[Due], causes: list[Context]) -> list[bool]:
        """Whether each notice may go this hour: one count for the batch, in a span linked to
        the notices' traces (`causes`)."""
        if self.limit is None:
            return [True] * len(due)
        with telemetry.batch_span(
            "notify hourly limits", causes, {"messaging.batch.message_count": len(due)}
        ):
            return await self.limit.allow_all([notice.recipient for notice in due])

    async def _send(
        self, notice: Due, cause: Context, allowed: bool
    ) -> tuple[str | None, SpanContext]:
        # The cause's context replaces the sender's quiet one: this work belongs to its trace.
        async with self._slots:
            with telemetry.child_span(
                f"notify {self.channel.name}",
                cause,
                kind=SpanKind.CLIENT,
                attributes={
                    "gonghui.notice.template": notice.template,
                    "gonghui.notice.attempt": notice.attempts + 1,
                },
            ) as span:
                if not allowed:
                    span.set_attribute("gonghui.notice.postponed", True)
                    return POSTPONED, span.get_span_context()
                try:
                    await self.channel.send(_outgoing(notice))
                    error = None
                except ChannelError as failed:
                    error = str(failed)
                    telemetry.record_error(span, failed)
                return error, span.get_span_context()

    async def _settle_unsent(self, unit: Unit, notice: Due, error: str) -> None:
        if error == POSTPONED:
            changes: dict[str, Any] = {
                "next_attempt_at": datetime.fromtimestamp(HourlyLimit.next_hour(), UTC)
            }
        else:
            attempts = notice.attempts + 1
            changes = {"attempts": attempts, "last_error": error[:200]}
            if attempts >= self.max_attempts:
                changes["status"] = "failed"
                self._tell(unit, notice, NoticeFailed, attempts=attempts, error=error[:200])
            else:
                backoff = timedelta(seconds=domain.backoff_seconds(attempts))
                changes["next_attempt_at"] = _now() + backoff
        await unit.session.execute(
            update(Notice).where(Notice.notice_id == notice.notice_id).values(**changes)
        )

    def _tell(
        self, unit: Unit, notice: Due, what: type[NoticeSent | NoticeFailed], **facts: Any
    ) -> None:
        unit.emit(
            what(
                notice_id=notice.notice_id,
                recipient=notice.recipient,
                template=notice.template,
                cause_event_id=notice.cause_event_id,
                channel=self.channel.name,
                **facts,
            ),
            key=notice.recipient,
        )


POSTPONED = "postponed: the recipient's hourly limit is reached"


def _outgoing(notice: Due) -> Outgoing:
    return Outgoing(
        notice_id=str(notice.notice_id),
        recipient=notice.recipient,
        template=notice.template,
        locale=notice.locale,
        body=notice.body,
        cause_event_id=str(notice.cause_event_id),
        correlation_id=str(notice.correlation_id),
    )
