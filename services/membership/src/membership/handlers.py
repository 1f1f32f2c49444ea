"""Kafka subscriptions of membership: partner join requests in, outcomes out."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from gonghui_contracts import ContractViolation, Envelope, RawEnvelope
from gonghui_contracts.events.membership import JoinOutcome, JoinRequested
from gonghui_contracts.topics import MEMBERSHIP_JOIN_REQUESTS
from membership import service
from servicekit import Subscription, Unit
from servicekit.pii import PiiVault


def subscriptions(vault: PiiVault, today: Callable[[], date]) -> list[Subscription]:
    async def join_all(unit: Unit, events: Sequence[Envelope[JoinRequested]]) -> None:
        results = await service.join_all(unit, vault, [(e.data, e) for e in events], today())
        for event, result in zip(events, results, strict=True):
            request = event.data
            unit.emit(
                JoinOutcome(
                    request_ref=request.request_ref,
                    partner_id=unit.partner.partner_id,
                    outcome=result.outcome,
                    member_id=result.member_id,
                    union_id=result.union.union_id if result.union else None,
                    reasons=list(result.reasons),
                ),
                key=request.request_ref,
                cause=event,
            )

    async def on_invalid_request(
        unit: Unit, head: RawEnvelope, violation: ContractViolation
    ) -> None:
        echo = head.references("request_ref")
        unit.emit(
            JoinOutcome(
                request_ref=echo.get("request_ref", head.key),
                partner_id=unit.partner.partner_id,
                outcome="rejected",
                reasons=violation.reasons(),
            ),
            key=head.key,
            cause=head,
        )

    return [
        Subscription(
            MEMBERSHIP_JOIN_REQUESTS, on={JoinRequested: join_all}, reject=on_invalid_request
        )
    ]
