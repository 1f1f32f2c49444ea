"""The funds under concurrent decisions on PostgreSQL: the gift fund's enrolments and the claims
fund's payouts never overspent, never twice, and no member's claims past the yearly cap."""

from __future__ import annotations

import asyncio
import itertools
import random
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from aid import funds, service
from aid.claims import settlements
from aid.claims.desk import ClaimsDesk
from aid.claims.rules import DEFAULT_TERMS
from aid.models import Base, Claim, ClaimYear, Enrolment, Fund, LedgerEntry
from gonghui_contracts import Envelope, samples
from gonghui_contracts.events import MemberIdentified, MemberJoined, SettlementRecorded
from gonghui_contracts.values import DiagnosisCategory
from servicekit import UnitOfWork, db
from servicekit.clock import Clock
from servicekit.pii import PiiVault

from .conftest import BUREAU

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

    # batches of 1 to 5 events, all at once, as replicas' consumers would hand them over
    random.Random(3).shuffle(events)
    sizes = itertools.cycle((1, 3, 2, 5, 4))
    batches, rest = [], events
    while rest:
        size = next(sizes)
        batches.append(rest[:size])
        rest = rest[size:]

    async def enrol(batch: list[Envelope[MemberJoined]]) -> None:
        for _ in range(20):  # as the consumer would: a conflicting transaction is tried again
            try:
                async with uow() as unit:
                    await service.enrol_all(unit, batch, TERMS)
                return
            except IntegrityError:  # another transaction enrolled one of these members first
                await asyncio.sleep(0.01)

    await asyncio.gather(*(enrol(batch) for batch in batches))
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


async def test_concurrent_claims_never_pass_the_yearly_cap_nor_the_claims_fund(
    new_database: Any,
) -> None:
    """Settlements of few members decided all at once, in transactions of their own, some sent
    twice: every member's policy year stays within the cap, the fund never below zero, and the
    ledger, the claims and the policy years agree."""
    engine = db.create_engine(await new_database("claims"), pool_size=20)
    async with engine.begin() as connection:
        await connection.run_sync(db.kit_metadata.create_all)
        await connection.run_sync(Base.metadata.create_all)
    uow = UnitOfWork(db.session_factory(engine), "aid")
    vault, clock = PiiVault.development(), Clock()
    desk = ClaimsDesk(DEFAULT_TERMS, "claims-it", "illness-it", vault, clock)
    budget = 280_000_00  # less than the ten members' caps together: the fund runs out too
    rng = random.Random(5)
    people = [(uuid.uuid4(), samples.adult_resident_id(rng)) for _ in range(10)]
    async with uow() as unit:
        await funds.open_fund(unit, desk.fund_id, "互助金", budget, at=clock.now())
        await funds.open_fund(unit, desk.condolence_fund_id, "慰问金", 0, at=clock.now())
        for member_id, resident_id in people:
            await settlements.identified(
                vault,
                unit,
                [
                    MemberIdentified(
                        member_id=member_id,
                        resident_id=resident_id,
                        union_id="u",
                        region_code="440111",
                        city_code="440100",
                    )
                ],
            )
            unit.session.add(
                Enrolment(
                    member_id=member_id,
                    policy_year=2026,
                    status="covered",
                    premium_cents=6000,
                    period_start=date(2026, 1, 5),
                    period_end=date(2027, 1, 4),
                )
            )
    own_parts = [Decimal(rng.choice(["12000.00", "19000.00", "30000.00"])) for _ in range(80)]
    bodies = [
        SettlementRecorded(
            settlement_id=f"st-{n:03d}",
            revision=0,
            bureau_id=BUREAU.partner_id,
            resident_id=people[n % len(people)][1],
            hospital="广州市第一人民医院",
            admitted_on=date(2026, 3, 1),
            discharged_on=date(2026, 3, 5),
            total_cost=own + Decimal("20000.00"),
            basic_paid=Decimal("20000.00"),
            out_of_pocket_in_list=own,
            diagnosis=DiagnosisCategory.GENERAL,
        )
        for n, own in enumerate(own_parts)
    ]

    async def settle(body: SettlementRecorded) -> None:
        for _ in range(20):  # as the consumer would: a conflicting transaction is tried again
            try:
                async with uow() as unit:
                    unit.sender = BUREAU
                    await settlements.settle(desk, unit, body)
                return
            except IntegrityError:  # the same settlement, decided by another at this moment
                await asyncio.sleep(0.01)

    await asyncio.gather(*(settle(body) for body in bodies + bodies[:20]))
    async with uow.sessions() as session:
        fund = await session.get(Fund, desk.fund_id)
        claimed = await session.scalar(select(func.count()).select_from(Claim))
        paid_by_claims = await session.scalar(select(func.sum(Claim.payout_cents)))
        years = list(await session.scalars(select(ClaimYear)))
        ledger = await session.scalar(
            select(-func.sum(LedgerEntry.amount_cents)).where(
                LedgerEntry.fund_id == desk.fund_id, LedgerEntry.kind == "payout"
            )
        )
        refused = list(
            await session.scalars(
                select(Claim.proposed_cents).where(Claim.status == "under_review")
            )
        )
    await engine.dispose()
    assert fund is not None
    assert claimed == len(bodies)  # one claim per settlement, though twenty came twice
    assert all(0 <= year.paid_cents <= DEFAULT_TERMS.yearly_cap_cents for year in years)
    assert any(year.paid_cents == DEFAULT_TERMS.yearly_cap_cents for year in years)
    assert refused  # the fund ran out: what it could not pay went to review, and only that
    assert 0 <= fund.balance_cents < min(refused)
    spent = budget - fund.balance_cents
    assert paid_by_claims == sum(y.paid_cents for y in years) == ledger == spent
