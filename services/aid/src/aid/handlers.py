"""Kafka subscriptions of aid: member lifecycle in, insurance events out."""

from __future__ import annotations

from typing import Any

from aid import service
from aid.service import FundTerms
from gonghui_contracts import Envelope
from gonghui_contracts.events import MemberJoined, MemberLeft
from servicekit import Subscription, Unit

MEMBERSHIP_EVENTS = "membership.events.v1"


def subscriptions(terms: FundTerms) -> list[Subscription]:
    async def on_membership_event(unit: Unit, event: Envelope[Any]) -> None:
        if isinstance(event.data, MemberJoined):
            await service.on_member_joined(unit, event, terms)
        elif isinstance(event.data, MemberLeft):
            await service.on_member_left(unit, event)
        # transfers change the union, not the cover

    return [Subscription(MEMBERSHIP_EVENTS, on_membership_event)]
