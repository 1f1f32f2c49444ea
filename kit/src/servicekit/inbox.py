"""Idempotent consumer: the id of each handled message is stored with its effect."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from servicekit.db import inbox_table


class Outcome(StrEnum):
    HANDLED = "handled"
    REJECTED = "rejected"
    DEAD_LETTER = "dead_letter"


async def claim(
    session: AsyncSession, group: str, message_key: str, *, replay: bool = False
) -> bool:
    """Record that `group` handles `message_key` in the current transaction.

    False if it was handled before: the caller must then do nothing. A message replayed from
    its dead-letter topic may be handled again if its earlier outcome was the dead letter.
    """
    values = {
        "consumer_group": group,
        "message_key": message_key,
        "outcome": Outcome.HANDLED.value,
        "processed_at": datetime.now(UTC),
    }
    dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
    inserted = await session.execute(
        dialect.insert(inbox_table)
        .values(values)
        .on_conflict_do_nothing()
        .returning(inbox_table.c.outcome)
    )
    if inserted.first() is not None:
        return True
    if not replay:
        return False
    earlier = await session.scalar(
        select(inbox_table.c.outcome).where(
            inbox_table.c.consumer_group == group, inbox_table.c.message_key == message_key
        )
    )
    if earlier != Outcome.DEAD_LETTER:
        return False
    await set_outcome(session, group, message_key, Outcome.HANDLED)
    return True


async def set_outcome(
    session: AsyncSession, group: str, message_key: str, outcome: Outcome
) -> None:
    await session.execute(
        update(inbox_table)
        .where(inbox_table.c.consumer_group == group, inbox_table.c.message_key == message_key)
        .values(outcome=outcome.value)
    )
