"""Rows added in a transaction are found by the units that share it, and not after a rollback."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import String, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from servicekit import Unit, UnitOfWork
from servicekit.db import new_metadata
from servicekit.testing import sqlite_sessions


class Base(DeclarativeBase):
    metadata = new_metadata()


class Row(Base):
    __tablename__ = "rows"
    key: Mapped[str] = mapped_column(String(10), primary_key=True)


async def test_units_of_one_transaction_find_each_others_rows_without_a_flush(
    tmp_path: Path,
) -> None:
    async with sqlite_sessions(tmp_path, Base.metadata) as sessions:
        async with sessions() as session, session.begin():
            first, second = Unit(session, "t"), Unit(session, "t")
            with session.no_autoflush:
                first.add(Row(key="a"), key="a")
                found = second.added(Row, "a")
                assert found is not None
                assert found.key == "a"
                assert second.added(Row, "b") is None
                assert await session.scalar(select(func.count()).select_from(Row)) == 0
        async with sessions() as session:
            assert Unit(session, "t").added(Row, "a") is None  # another transaction
            assert await session.scalar(select(func.count()).select_from(Row)) == 1


async def add_then_fail(unit: Unit) -> None:
    async with unit.session.begin_nested():
        unit.add(Row(key="gone"), key="gone")
        await unit.session.flush()
        raise RuntimeError("handler failed")


async def test_a_row_of_a_rolled_back_savepoint_is_not_found(tmp_path: Path) -> None:
    async with (
        sqlite_sessions(tmp_path, Base.metadata) as sessions,
        sessions() as session,
        session.begin(),
    ):
        unit = Unit(session, "t")
        with pytest.raises(RuntimeError):
            await add_then_fail(unit)
        assert unit.added(Row, "gone") is None


async def test_rows_added_in_a_group_are_found_together_and_not_after_a_rollback(
    tmp_path: Path,
) -> None:
    async with (
        sqlite_sessions(tmp_path, Base.metadata) as sessions,
        sessions() as session,
        session.begin(),
    ):
        first, second = Unit(session, "t"), Unit(session, "t")
        with session.no_autoflush:
            first.add(Row(key="a1"), key="a1", group="a")
            second.add(Row(key="a2"), key="a2", group="a")
            second.add(Row(key="b1"), key="b1", group="b")
            first.add(Row(key="none"), key="none")
        assert sorted(r.key for r in second.added_in(Row, "a")) == ["a1", "a2"]
        assert [r.key for r in first.added_in(Row, "b")] == ["b1"]
        with pytest.raises(RuntimeError):
            await add_to_group_then_fail(first)
        assert sorted(r.key for r in first.added_in(Row, "a")) == ["a1", "a2"]


async def add_to_group_then_fail(unit: Unit) -> None:
    async with unit.session.begin_nested():
        unit.add(Row(key="a3"), key="a3", group="a")
        await unit.session.flush()
        raise RuntimeError("handler failed")


async def test_work_meeting_a_row_inserted_meanwhile_runs_once_more_and_finds_it(
    tmp_path: Path,
) -> None:
    async with sqlite_sessions(tmp_path, Base.metadata) as sessions:
        uow = UnitOfWork(sessions, "t")
        runs: list[str] = []

        async def insert_unless_there(unit: Unit) -> str:
            if not runs:  # looked, found nothing; another transaction inserts it meanwhile
                runs.append("first")
                async with sessions() as other, other.begin():
                    other.add(Row(key="k"))
                unit.session.add(Row(key="k"))
                return "inserted"
            runs.append("again")
            return "found" if await unit.session.get(Row, "k") is not None else "inserted"

        assert await uow.once_more_on_conflict(insert_unless_there) == "found"
        assert runs == ["first", "again"]

        async def always_conflicts(unit: Unit) -> None:
            unit.session.add(Row(key="k"))

        with pytest.raises(IntegrityError):  # a second conflict is the caller's to see
            await uow.once_more_on_conflict(always_conflicts)
