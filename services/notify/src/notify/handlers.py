"""Kafka subscriptions of notify: whatever members should hear about."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gonghui_contracts import Envelope
from gonghui_contracts.topics import TOPICS, TopicSpec
from gonghui_contracts.values import Service
from notify import service
from servicekit import Subscription, Unit

# Every topic the registry names notify a reader of: notices are decided per event type by
# `domain.notices_for`, so every event of these topics goes to the same handler.
READ: tuple[TopicSpec, ...] = tuple(spec for spec in TOPICS if Service.NOTIFY in spec.readers)
TOPICS_READ = tuple(spec.name for spec in READ)


def subscriptions(locale: str) -> list[Subscription]:
    async def record_all(unit: Unit, events: Sequence[Envelope[Any]]) -> None:
        await service.record_notices(unit, events, locale)

    return [Subscription(spec, on=dict.fromkeys(spec.carries, record_all)) for spec in READ]
