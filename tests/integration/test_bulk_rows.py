"""The kit's bulk insert through COPY on the real PostgreSQL: inside the caller's transaction,
even as its first statement, and failing as SQLAlchemy's own statements fail."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import exc, func, select

from servicekit import db
from servicekit.db import insert_rows, outbox_table

pytestmark = pytest.mark.integration


def rows(count: int) -> list[dict[str, Any]]:
    return [
        {
            "message_id": str(uuid.uuid4()),
            "topic": "t.v1",
            "key": b"k",
            "value": "值".encode(),
            "headers": "{}",
            "created_at": datetime.now(UTC),
        }
        for _ in range(count)
    ]


async def test_copied_rows_commit_and_roll_back_with_their_transaction(new_database: Any) -> None:
    engine = db.create_engine(await new_database("bulk"))
    async with engine.begin() as connection:
        await connection.run_sync(db.kit_metadata.create_all)
    sessions = db.session_factory(engine)

    async def count() -> int:
        async with sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(outbox_table)) or 0)

    async with sessions() as session, session.begin():
        await insert_rows(session, outbox_table, rows(300))  # the transaction's first statement
    assert await count() == 300

    async def failing_change() -> None:
        async with sessions() as session, session.begin():
            await insert_rows(session, outbox_table, rows(50))
            raise RuntimeError("the change failed")

    with pytest.raises(RuntimeError):
        await failing_change()
    assert await count() == 300  # nothing of a rolled-back transaction stays

    again = rows(2)
    again[1]["message_id"] = again[0]["message_id"]

    async def twice_the_same_id() -> None:
        async with sessions() as session, session.begin():
            await insert_rows(session, outbox_table, again)

    with pytest.raises(exc.IntegrityError):  # as for any statement of SQLAlchemy's
        await twice_the_same_id()
    assert await count() == 300
    await engine.dispose()
