from __future__ import annotations

import json
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from aid import domain, service
from aid.domain import CoverStatus, Decision
from aid.errors import Refused
from aid.models import Base, Enrolment, Fund, LedgerEntry
from gonghui_contracts import Envelope
from gonghui_contracts.events import MemberJoined, MemberLeft
from servicekit import UnitOfWork
from servicekit.testing import outbox_rows, sqlite_sessions

TERMS = service.FundTerms("fund-1", "测试基金", budget_cents=3 * 6000, premium_cents=6000)


def test_a_policy_period_is_one_year_from_joining() -> None:
    assert domain.policy_period(date(2024, 6, 27)) == domain.Period(
        date(2024, 6, 27), date(2025, 6, 26)
    )
    assert domain.policy_period(date(2024, 2, 29)).end == date(2025, 2, 28)


def test_only_new_form_workers_are_gifted_and_only_while_the_fund_pays() -> None:
    assert domain.decide(True, fund_paid=True) is Decision.GIFT
    assert domain.decide(True, fund_paid=False) is Decision.FUND_EXHAUSTED
    assert domain.decide(False, fund_paid=True) is Decision.NOT_ELIGIBLE
    assert domain.can_pay(6000, 6000)
    assert not domain.can_pay(5999, 6000)


def test_a_leaver_keeps_cover_to_the_end_of_the_paid_period() -> None:
    end = date(2025, 6, 26)
    assert not domain.coverage_is_over(CoverStatus.COVERED, date(2024, 9, 1), end, end)
    assert domain.coverage_is_over(CoverStatus.COVERED, date(2024, 9, 1), end, date(2025, 6, 27))
    assert not domain.coverage_is_over(CoverStatus.COVERED, None, end, date(2025, 6, 27))


@pytest.fixture
async def uow(tmp_path: Path) -> Any:
    async with sqlite_sessions(tmp_path, Base.metadata) as sessions:
        work = UnitOfWork(sessions, "aid")
        async with work() as unit:
            await service.open_fund(unit, TERMS)
        yield work


def joined(new_form: bool = True, member_id: uuid.UUID | None = None) -> Envelope[MemberJoined]:
    return Envelope.wrap(
        MemberJoined(
            member_id=member_id or uuid.uuid4(),
            union_id="440100-express_delivery",
            region_code="440111",
            city_code="440100",
            industry="express_delivery" if new_form else "retail",
            new_employment_form=new_form,
            channel="partner_batch",
            joined_on=date(2024, 6, 27),
        ),
        key="m",
        producer="membership",
    )


async def enrol(uow: UnitOfWork, event: Envelope[MemberJoined]) -> None:
    async with uow() as unit:
        await service.enrol_all(unit, [event], TERMS)


async def events(uow: UnitOfWork) -> list[dict[str, Any]]:
    return [json.loads(row.value) for row in await outbox_rows(uow.sessions)]


@pytest.mark.parametrize("batches", [(1, 1, 1, 1, 1), (5,), (2, 3), (4, 1)])
async def test_the_fund_pays_whole_premiums_until_it_cannot_then_offers_self_paid(
    uow: UnitOfWork, batches: tuple[int, ...]
) -> None:
    for size in batches:  # however the joins come in batches, the fund pays the same
        async with uow() as unit:
            await service.enrol_all(unit, [joined() for _ in range(size)], TERMS)
    kinds = [
        (e["event_type"], e["data"].get("paid_by") or e["data"].get("reason"))
        for e in await events(uow)
    ]
    assert kinds.count(("aid.insurance-enrolled", "gift_fund")) == 3
    assert kinds.count(("aid.self-paid-offered", "fund_exhausted")) == 2
    assert [k for k, _ in kinds].count("aid.gift-fund-exhausted") == 1  # said once
    async with uow.sessions() as session:
        fund = await session.get(Fund, TERMS.fund_id)
        assert fund is not None
        assert (fund.balance_cents, fund.payments) == (0, 3)
        spent = await session.scalar(
            select(func.sum(LedgerEntry.amount_cents)).where(LedgerEntry.kind == "premium")
        )
        assert spent == -(fund.budget_cents - fund.balance_cents)


@pytest.mark.parametrize("together", [False, True])
async def test_a_member_is_enrolled_once_per_policy_year(uow: UnitOfWork, together: bool) -> None:
    member = uuid.uuid4()
    # a second event for the same member (a rejoin), in a later batch or the same one
    twice = [joined(member_id=member), joined(member_id=member)]
    if together:
        async with uow() as unit:
            await service.enrol_all(unit, twice, TERMS)
    else:
        for event in twice:
            await enrol(uow, event)
    async with uow.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Enrolment)) == 1
        fund = await session.get(Fund, TERMS.fund_id)
        assert fund is not None
        assert fund.payments == 1


async def test_other_workers_are_offered_self_paid_cover_and_can_take_it(uow: UnitOfWork) -> None:
    event = joined(new_form=False)
    await enrol(uow, event)
    [offer] = await events(uow)
    assert (offer["event_type"], offer["data"]["reason"]) == (
        "aid.self-paid-offered",
        "not_eligible_for_gift",
    )
    async with uow() as unit:
        enrolment = await service.accept_self_paid(unit, event.data.member_id)
    assert (enrolment.status, enrolment.paid_by) == ("covered", "self")
    async with uow() as unit:
        with pytest.raises(Refused):
            await service.accept_self_paid(unit, event.data.member_id)


async def test_a_leavers_cover_ends_after_the_paid_period(uow: UnitOfWork) -> None:
    event = joined()
    await enrol(uow, event)
    left = MemberLeft(
        member_id=event.data.member_id, union_id="u", reason="moved", left_on=date(2024, 9, 1)
    )
    async with uow() as unit:
        await service.on_member_left(unit, Envelope.wrap(left, key="m", producer="membership"))
    async with uow() as unit:
        assert await service.end_finished_coverage(unit, date(2025, 6, 26)) == 0
    async with uow() as unit:
        assert await service.end_finished_coverage(unit, date(2025, 6, 27)) == 1
    ended = (await events(uow))[-1]
    assert (ended["event_type"], ended["data"]["ended_on"]) == ("aid.coverage-ended", "2025-06-27")
