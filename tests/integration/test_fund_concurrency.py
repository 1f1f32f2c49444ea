"""The gift fund under concurrent enrolments on PostgreSQL: never overspent, never twice."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from aid import service
from aid.models import Base, Enrolment, Fund, LedgerEntry
from gonghui_contracts import Envelope
from gonghui_contracts.events import MemberJoined
from servicekit import UnitOfWork, db

pytestmark = pytest.mark.integration
TERMS = service.FundTerms("fund-it", "测试基金", budget_cents=25 * 6000, premium_cents=6000)


def joined(member_id: uuid.UUID) -> Envelope[MemberJoined]:
    return Envelope.wrap(
        MemberJoined(
            member_id=member_id,
            union_id="u",
            region_code="440111",
            city_code="440100",
            industry="food_delivery",
            new_employment_form=True,
            channel="app",
            joined_on=date(2026, 1, 5),
        ),
        key=str(member_id),
        producer="membership",
    )


async def test_concurrent_enrolments_never_overspend_nor_pay_twice(new_database: Any) -> None:
    engine = db.create_engine(await new_database("fund"), pool_size=20)
    async with engine.begin() as connection:
        await connection.run_sync(db.kit_metadata.create_all)
        await connection.run_sync(Base.metadata.create_all)
    uow = UnitOfWork(db.session_factory(engine), "aid")
    async with uow() as unit:
        await service.open_fund(unit, TERMS)
    members = [uuid.uuid4() for _ in range(40)]
    events = [joined(m) for m in members] + [joined(m) for m in members[:10]]  # ten members twice

    async def enrol(event: Envelope[MemberJoined]) -> None:
        for _ in range(20):  # as the consumer would: a conflicting transaction is tried again
            try:
                async with uow() as unit:
                    await service.on_member_joined(unit, event, TERMS)
                return
            except IntegrityError:  # another transaction enrolled this member first
                await asyncio.sleep(0.01)

    await asyncio.gather(*(enrol(event) for event in events))
    async with uow.sessions() as session:
        fund = await session.get(Fund, TERMS.fund_id)
        enrolled = await session.scalar(select(func.count()).select_from(Enrolment))
        gifted = await session.scalar(
            select(func.count()).select_from(Enrolment).where(Enrolment.paid_by == "gift_fund")
        )
        spent = await session.scalar(
            select(-func.sum(LedgerEntry.amount_cents)).where(LedgerEntry.kind == "premium")
        )
    await engine.dispose()
    assert fund is not None
    assert enrolled == 40  # one per member, though ten came twice and all at once
    assert gifted == fund.payments == 25  # the fund pays for 25 and not one more
    assert fund.balance_cents == 0
    assert spent == fund.budget_cents - fund.balance_cents == 25 * 6000
