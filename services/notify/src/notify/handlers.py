"""Kafka subscriptions of notify: whatever members should hear about."""

from __future__ import annotations

from typing import Any

from gonghui_contracts import Envelope
from notify import service
from servicekit import Subscription, Unit

TOPICS = (
    "membership.events.v1",
    "aid.events.v1",
    "aid.injury-cases.v1",
    "aid.claims.v1",
    "legal.cases.v1",
    "legal.supervision.v1",
    "skills.seats.v1",
    "skills.degree-aid.v1",
    "skills.ladder.v1",
    "skills.competitions.v1",
)


def subscriptions(locale: str) -> list[Subscription]:
    async def on_event(unit: Unit, event: Envelope[Any]) -> None:
        await service.record_notices(unit, event, locale)

    return [Subscription(topic, on_event) for topic in TOPICS]
