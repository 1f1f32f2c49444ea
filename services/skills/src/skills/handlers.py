"""Kafka subscriptions of skills: membership's lifecycle in (who may book)."""

from __future__ import annotations

from typing import Any

from gonghui_contracts import Envelope
from gonghui_contracts.events import MemberJoined, MemberLeft, MemberTransferred
from servicekit import Subscription, Unit
from servicekit.clock import Clock
from skills import members
from skills.rules import SeatTerms

MEMBERSHIP_EVENTS = "membership.events.v1"


def subscriptions(terms: SeatTerms, clock: Clock) -> list[Subscription]:
    async def on_membership_event(unit: Unit, event: Envelope[Any]) -> None:
        if isinstance(event.data, MemberJoined):
            await members.joined(unit, event.data)
        elif isinstance(event.data, MemberTransferred):
            await members.transferred(unit, event.data)
        elif isinstance(event.data, MemberLeft):
            await members.left(unit, terms, event.data, clock.now())

    return [Subscription(MEMBERSHIP_EVENTS, on_membership_event)]
