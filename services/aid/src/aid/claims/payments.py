"""Money out: approved payouts and condolence go to the member through a payment channel, with
retries; each payment's id is the channel's idempotency key, so a retry after a crash pays once.

Channels: a signed webhook to the payment gateway, or a local sink (a file of JSON lines the
demo, the tests and reconciliation read).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path
from typing import Protocol

from sqlalchemy import select

from aid.claims.desk import ClaimsDesk
from aid.models import Claim, ClaimPayment
from gonghui_contracts.events import ClaimPaid, ClaimPaymentFailed
from gonghui_contracts.values import to_yuan
from servicekit import Unit, UnitOfWork, telemetry
from servicekit.webhooks import JsonLinesSink, WebhookError, WebhookPoster


@dataclass(frozen=True)
class PaymentOrder:
    payment_id: str
    claim_id: str
    member_id: str
    kind: str
    amount: str  # yuan


class PaymentRefused(Exception):
    """The channel did not take the payment; the text is safe to log."""


class PaymentChannel(Protocol):
    name: str

    async def pay(self, order: PaymentOrder) -> None:
        """Pay, or raise PaymentRefused."""


class SinkPayments:
    name = "sink"

    def __init__(self, path: Path) -> None:
        self.sink = JsonLinesSink(path)

    async def pay(self, order: PaymentOrder) -> None:
        await self.sink.append(asdict(order))


def sink_records(path: Path) -> Iterator[PaymentOrder]:
    """What a sink received, in order (a payment retried after a crash may appear twice)."""
    if not path.exists():
        return
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            yield PaymentOrder(**{name: record[name] for name in PaymentOrder.__annotations__})


class WebhookPayments:
    """POSTs each payment order, signed, to the payment gateway."""

    name = "webhook"

    def __init__(self, webhook: WebhookPoster) -> None:
        self.webhook = webhook

    async def pay(self, order: PaymentOrder) -> None:
        try:
            await self.webhook.post(asdict(order), idempotency_key=order.payment_id)
        except WebhookError as error:
            raise PaymentRefused(str(error)) from None


BATCH = 200


@dataclass(frozen=True)
class Retries:
    attempts: int = 5
    first_delay: timedelta = timedelta(seconds=30)

    def delay(self, attempt: int) -> timedelta:
        return self.first_delay * float(2 ** (attempt - 1))


async def pay_due(
    desk: ClaimsDesk,
    uow: UnitOfWork,
    channel: PaymentChannel,
    retries: Retries,
    limit: int = BATCH,
) -> int:
    """Send the payments that are due; how many were paid. Replicas share the work: a payment
    being sent by one is skipped by the others."""
    paid = 0
    async with uow() as unit:
        now = desk.clock.now()
        due = list(
            await unit.session.scalars(
                select(ClaimPayment)
                .where(ClaimPayment.status == "pending", ClaimPayment.next_attempt_at <= now)
                .order_by(ClaimPayment.next_attempt_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        found = await unit.session.execute(
            select(Claim.claim_id, Claim.trace_headers).where(
                Claim.claim_id.in_({payment.claim_id for payment in due})
            )
        )
        traces = dict(found.tuples().all())
        for payment in due:
            with telemetry.continued(json.loads(traces.get(payment.claim_id, "{}")), "aid pay"):
                paid += await _send(unit, channel, payment, retries, desk)
    return paid


async def _send(
    unit: Unit, channel: PaymentChannel, payment: ClaimPayment, retries: Retries, desk: ClaimsDesk
) -> int:
    now = desk.clock.now()
    payment.attempts += 1
    try:
        await channel.pay(_order(payment))
    except PaymentRefused as refused:
        payment.last_error = str(refused)[:200]
        if payment.attempts < retries.attempts:
            payment.next_attempt_at = now + retries.delay(payment.attempts)
            return 0
        payment.status = "failed"
        unit.emit(
            ClaimPaymentFailed(
                claim_id=payment.claim_id,
                payment_id=payment.payment_id,
                member_id=payment.member_id,
                amount=to_yuan(payment.amount_cents),
                attempts=payment.attempts,
                reason=payment.last_error,
            ),
            key=str(payment.member_id),
        )
        return 0
    payment.status, payment.paid_at = "paid", now
    unit.emit(
        ClaimPaid(
            claim_id=payment.claim_id,
            payment_id=payment.payment_id,
            member_id=payment.member_id,
            amount=to_yuan(payment.amount_cents),
            kind="condolence" if payment.kind == "condolence" else "payout",
        ),
        key=str(payment.member_id),
    )
    return 1


def _order(payment: ClaimPayment) -> PaymentOrder:
    return PaymentOrder(
        payment_id=str(payment.payment_id),
        claim_id=str(payment.claim_id),
        member_id=str(payment.member_id),
        kind=payment.kind,
        amount=str(to_yuan(payment.amount_cents)),
    )
