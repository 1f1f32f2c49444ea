"""Idempotent consumer: the id of each handled message is stored with its effect."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Executable

from servicekit.db import inbox_table


class Outcome(StrEnum):
    HANDLED = "handled"
    REJECTED = "rejected"
    DEAD_LETTER = "dead_letter"


def _insert_new_keys(dialect_name: str) -> Executable:
    if dialect_name == "postgresql":
        return (
            postgresql.insert(inbox_table)
            .on_conflict_do_nothing()
            .returning(inbox_table.c.message_key)
        )
    return sqlite.insert(inbox_table).on_conflict_do_nothing().returning(inbox_table.c.message_key)


async def claim_many(
    session: AsyncSession,
    group: str,
    keys: Sequence[str],
    *,
    replayed: set[str] = frozenset(),  # type: ignore[assignment]
) -> set[str]:
    """Record, in the current transaction, that `group` handles these message keys; returns
    those seen for the first time (one round trip for the whole batch).

    A key seen before is not returned: its message must have no second effect. The exception
    is a message replayed from its dead-letter topic, whose earlier outcome was the dead letter:
    it is handled again, once.
    """
    unique = list(dict.fromkeys(keys))
    if not unique:
        return set()
    now = datetime.now(UTC)
    assert session.bind is not None
    rows = await session.execute(
        _insert_new_keys(session.bind.dialect.name),
        [
            {
                "consumer_group": group,
                "message_key": key,
                "outcome": Outcome.HANDLED.value,
                "processed_at": now,
            }
            for key in unique
        ],
    )
    fresh = set(rows.scalars())
    for key in (replayed & set(unique)) - fresh:
        if await _outcome(session, group, key) == Outcome.DEAD_LETTER:
            await set_outcome(session, group, key, Outcome.HANDLED)
            fresh.add(key)
    return fresh


async def _outcome(session: AsyncSession, group: str, message_key: str) -> str | None:
    return await session.scalar(
        select(inbox_table.c.outcome).where(
            inbox_table.c.consumer_group == group, inbox_table.c.message_key == message_key
        )
    )


async def set_outcome(
    session: AsyncSession, group: str, message_key: str, outcome: Outcome
) -> None:
    await session.execute(
        update(inbox_table)
        .where(inbox_table.c.consumer_group == group, inbox_table.c.message_key == message_key)
        .values(outcome=outcome.value)
    )
