"""Kafka subscriptions of membership: partner join requests in, outcomes out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from gonghui_contracts import ContractViolation, Envelope, RawEnvelope
from gonghui_contracts.events.membership import JoinOutcome, JoinRequested
from membership import service
from servicekit import Subscription, Unit
from servicekit.pii import PiiVault

JOIN_REQUESTS = "partner.membership.join-requests.v1"


def subscriptions(vault: PiiVault, today: Callable[[], date]) -> list[Subscription]:
    async def on_join_requested(unit: Unit, event: Envelope[Any]) -> None:
        request: JoinRequested = event.data
        result = await service.join(unit, vault, request, today(), cause=event)
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

    return [Subscription(JOIN_REQUESTS, on_join_requested, reject=on_invalid_request)]
