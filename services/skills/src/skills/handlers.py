"""Kafka subscriptions of skills: membership's lifecycle in (who may book), and members' seat
requests through the partners' app gateways, each answered on the gateway's own topic."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gonghui_contracts import ContractViolation, Envelope, RawEnvelope, RejectionReason
from gonghui_contracts.events import (
    MemberJoined,
    MemberLeft,
    MemberTransferred,
    SeatRequested,
    SeatRequestOutcome,
)
from gonghui_contracts.topics import MEMBERSHIP_EVENTS, SKILLS_SEAT_REQUESTS
from servicekit import Subscription, Unit, each
from servicekit.clock import Clock
from skills import members, seats
from skills.errors import NotEligible, NotFound, Refused
from skills.rules import SeatTerms

REFUSED_AS: dict[type[Exception], str] = {
    NotEligible: "member_id",
    NotFound: "session_id",
    Refused: "session_id",
}


def subscriptions(terms: SeatTerms, clock: Clock) -> list[Subscription]:
    async def joined_all(unit: Unit, events: Sequence[Envelope[MemberJoined]]) -> None:
        await members.joined(unit, [event.data for event in events])

    async def on_transferred(unit: Unit, event: Envelope[MemberTransferred]) -> None:
        await members.transferred(unit, event.data)

    async def on_member_left(unit: Unit, event: Envelope[MemberLeft]) -> None:
        await members.left(unit, terms, event.data, clock.now())

    async def on_seat_request(unit: Unit, event: Envelope[SeatRequested]) -> None:
        request = event.data

        async def attempt() -> seats.Answer:
            async with unit.session.begin_nested():  # undone alone if its seat went meanwhile
                return await seats.request_seat(
                    unit,
                    terms,
                    member_id=request.member_id,
                    session_id=request.session_id,
                    # the gateway's own references: another gateway's never meet them
                    request_key=f"{unit.partner.partner_id}:{request.request_ref}",
                    now=clock.now(),
                )

        try:
            answer = await seats.asked_again_if_gone(attempt)
        except (NotEligible, NotFound, Refused) as refusal:
            reason = RejectionReason(field=REFUSED_AS[type(refusal)], rule=str(refusal))
            _answer(unit, event, request.request_ref, outcome="rejected", reasons=[reason])
            return
        _answer(
            unit,
            event,
            request.request_ref,
            outcome=answer.outcome,
            seat_id=answer.seat_id,
            due_at=answer.due_at,
            position=answer.position,
        )

    async def on_invalid_seat_request(
        unit: Unit, head: RawEnvelope, violation: ContractViolation
    ) -> None:
        ref = head.references("request_ref").get("request_ref", head.key)
        _answer(unit, head, ref, outcome="rejected", reasons=list(violation.reasons()))

    return [
        Subscription(
            MEMBERSHIP_EVENTS,
            on={
                MemberJoined: joined_all,
                MemberTransferred: each(on_transferred),
                MemberLeft: each(on_member_left),
            },
        ),
        Subscription(
            SKILLS_SEAT_REQUESTS,
            on={SeatRequested: each(on_seat_request)},
            reject=on_invalid_seat_request,
        ),
    ]


def _answer(unit: Unit, cause: RawEnvelope | Envelope[Any], ref: str, **outcome: Any) -> None:
    """The outcome, on the gateway's own outcome topic."""
    unit.emit(
        SeatRequestOutcome(request_ref=ref, gateway_id=unit.partner.partner_id, **outcome),
        key=ref,
        cause=cause,
    )
