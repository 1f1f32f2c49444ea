"""What an operator does with outbox rows the relay parked: look, send again, or drop."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from servicekit.db import outbox_parked_table, outbox_table


@dataclass(frozen=True)
class ParkedRow:
    seq: int
    message_id: str
    topic: str
    size: int
    parked_at: datetime
    reason: str


async def parked(sessions: async_sessionmaker[AsyncSession], limit: int = 100) -> list[ParkedRow]:
    """The oldest parked rows first (the payload itself is not shown: it may be personal)."""
    table = outbox_parked_table
    async with sessions() as session:
        rows = await session.execute(
            select(
                table.c.seq,
                table.c.message_id,
                table.c.topic,
                func.length(table.c.value),
                table.c.parked_at,
                table.c.reason,
            )
            .order_by(table.c.seq)
            .limit(limit)
        )
        return [ParkedRow(*row) for row in rows]


async def retry(sessions: async_sessionmaker[AsyncSession], seqs: Sequence[int]) -> int:
    """Put parked rows back at the end of the outbox (after the broker's limit was raised or
    the topic's ACL fixed); returns how many."""
    table = outbox_parked_table
    async with sessions() as session, session.begin():
        rows = (
            await session.execute(select(table).where(table.c.seq.in_(seqs)).with_for_update())
        ).all()
        if rows:
            await session.execute(
                insert(outbox_table),
                [
                    {
                        "message_id": row.message_id,
                        "topic": row.topic,
                        "key": row.key,
                        "value": row.value,
                        "headers": row.headers,
                        "created_at": datetime.now(UTC),
                    }
                    for row in rows
                ],
            )
            await _forget(session, [row.seq for row in rows])
        return len(rows)


async def drop(sessions: async_sessionmaker[AsyncSession], seqs: Sequence[int]) -> int:
    """Delete parked rows for good; returns how many."""
    async with sessions() as session, session.begin():
        return await _forget(session, seqs)


async def _forget(session: AsyncSession, seqs: Sequence[int]) -> int:
    table = outbox_parked_table
    result = await session.execute(delete(table).where(table.c.seq.in_(seqs)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
