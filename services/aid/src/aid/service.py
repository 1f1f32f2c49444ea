"""aid's use cases: enrolment on joining, leaving, self-paid enrolment, expiry, queries."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select, update

from aid import domain
from aid.domain import CoverStatus, Decision
from aid.models import Enrolment, Fund, LedgerEntry
from gonghui_contracts import Envelope
from gonghui_contracts.events import (
    CoverageEnded,
    GiftFundExhausted,
    InsuranceEnrolled,
    MemberJoined,
    MemberLeft,
    SelfPaidOffered,
)
from servicekit import Unit


@dataclass(frozen=True)
class FundTerms:
    fund_id: str
    name: str
    budget_cents: int
    premium_cents: int


class NotFound(LookupError):
    pass


class Refused(ValueError):
    pass


def _now() -> datetime:
    return datetime.now(UTC)


async def open_fund(unit: Unit, terms: FundTerms) -> None:
    """Create the gift fund with its opening ledger row, unless it exists already."""
    if await unit.session.get(Fund, terms.fund_id) is not None:
        return
    unit.session.add(
        Fund(
            fund_id=terms.fund_id,
            name=terms.name,
            budget_cents=terms.budget_cents,
            balance_cents=terms.budget_cents,
            premium_cents=terms.premium_cents,
            gifted=0,
        )
    )
    unit.session.add(
        LedgerEntry(
            fund_id=terms.fund_id,
            kind="opening",
            amount_cents=terms.budget_cents,
            balance_after_cents=terms.budget_cents,
            at=_now(),
        )
    )


async def on_member_joined(unit: Unit, event: Envelope[MemberJoined], terms: FundTerms) -> None:
    joined = event.data
    period = domain.policy_period(joined.joined_on)
    year = period.start.year
    existing = await unit.session.scalar(
        select(Enrolment.id).where(
            Enrolment.member_id == joined.member_id, Enrolment.policy_year == year
        )
    )
    if existing is not None:
        return  # already enrolled or offered for this policy year: a rejoin within the year
    balance = await _debit(unit, terms) if joined.new_employment_form else None
    decision = domain.decide(joined.new_employment_form, fund_paid=balance is not None)
    enrolment = Enrolment(
        member_id=joined.member_id,
        policy_year=year,
        premium_cents=terms.premium_cents,
        period_start=period.start,
        period_end=period.end,
    )
    unit.session.add(enrolment)
    key = str(joined.member_id)
    if decision is Decision.GIFT:
        assert balance is not None
        enrolment.status, enrolment.paid_by, enrolment.fund_id = (
            CoverStatus.COVERED,
            "gift_fund",
            terms.fund_id,
        )
        unit.session.add(
            LedgerEntry(
                fund_id=terms.fund_id,
                kind="premium",
                amount_cents=-terms.premium_cents,
                balance_after_cents=balance,
                member_id=joined.member_id,
                cause_event_id=event.event_id,
                at=_now(),
            )
        )
        unit.emit(_enrolled(enrolment), key=key, cause=event)
        return
    enrolment.status, enrolment.offer_reason = CoverStatus.OFFERED, decision.value
    unit.emit(
        SelfPaidOffered(
            member_id=joined.member_id,
            policy_year=year,
            premium=domain.to_yuan(terms.premium_cents),
            reason=decision.value,
        ),
        key=key,
        cause=event,
    )
    if decision is Decision.FUND_EXHAUSTED:
        await _announce_exhaustion(unit, terms, event)


async def _debit(unit: Unit, terms: FundTerms) -> int | None:
    """Take one premium from the fund if it can pay one (domain.can_pay); the new balance, or None.

    The condition sits in the UPDATE so that the database applies it to the row as it is at that
    moment: concurrent enrolments cannot both pass it on the same balance.
    """
    result = await unit.session.execute(
        update(Fund)
        .where(Fund.fund_id == terms.fund_id, Fund.balance_cents >= terms.premium_cents)
        .values(balance_cents=Fund.balance_cents - terms.premium_cents, gifted=Fund.gifted + 1)
        .returning(Fund.balance_cents)
        .execution_options(synchronize_session=False)
    )
    return result.scalar_one_or_none()


async def _announce_exhaustion(unit: Unit, terms: FundTerms, cause: Envelope[MemberJoined]) -> None:
    marked = (
        await unit.session.execute(
            update(Fund)
            .where(Fund.fund_id == terms.fund_id, Fund.exhausted_at.is_(None))
            .values(exhausted_at=_now())
            .returning(Fund.budget_cents, Fund.balance_cents, Fund.gifted)
            .execution_options(synchronize_session=False)
        )
    ).first()
    if marked is None:
        return  # said before
    budget, balance, gifted = marked
    unit.emit(
        GiftFundExhausted(
            fund_id=terms.fund_id,
            budget=domain.to_yuan(budget),
            balance=domain.to_yuan(balance),
            premium=domain.to_yuan(terms.premium_cents),
            gifted=gifted,
        ),
        key=terms.fund_id,
        cause=cause,
    )


def _enrolled(enrolment: Enrolment) -> InsuranceEnrolled:
    return InsuranceEnrolled(
        member_id=enrolment.member_id,
        policy_year=enrolment.policy_year,
        period_start=enrolment.period_start,
        period_end=enrolment.period_end,
        premium=domain.to_yuan(enrolment.premium_cents),
        paid_by="gift_fund" if enrolment.paid_by == "gift_fund" else "self",
        fund_id=enrolment.fund_id,
    )


async def on_member_left(unit: Unit, event: Envelope[MemberLeft]) -> None:
    await unit.session.execute(
        update(Enrolment)
        .where(Enrolment.member_id == event.data.member_id, Enrolment.left_on.is_(None))
        .values(left_on=event.data.left_on)
    )


async def accept_self_paid(unit: Unit, member_id: uuid.UUID) -> Enrolment:
    enrolment = await _latest(unit, member_id)
    if enrolment.status != CoverStatus.OFFERED:
        raise Refused(f"the member's enrolment is {enrolment.status}, not offered")
    enrolment.status, enrolment.paid_by = CoverStatus.COVERED, "self"
    unit.emit(_enrolled(enrolment), key=str(member_id))
    return enrolment


async def end_finished_coverage(unit: Unit, today: date, limit: int = 500) -> int:
    """End the cover of leavers whose paid period is over; returns how many."""
    rows = await unit.session.scalars(
        select(Enrolment)
        .where(
            Enrolment.status == CoverStatus.COVERED,
            Enrolment.left_on.is_not(None),
            Enrolment.period_end < today,
        )
        .limit(limit)
    )
    ended = 0
    for enrolment in rows:
        if domain.coverage_is_over(
            CoverStatus(enrolment.status), enrolment.left_on, enrolment.period_end, today
        ):
            enrolment.status, enrolment.ended_on = CoverStatus.ENDED, today
            unit.emit(
                CoverageEnded(member_id=enrolment.member_id, ended_on=today, reason="left_union"),
                key=str(enrolment.member_id),
            )
            ended += 1
    return ended


async def _latest(unit: Unit, member_id: uuid.UUID) -> Enrolment:
    enrolment = await unit.session.scalar(
        select(Enrolment)
        .where(Enrolment.member_id == member_id)
        .order_by(Enrolment.policy_year.desc())
        .limit(1)
    )
    if enrolment is None:
        raise NotFound(f"no enrolment for member {member_id}")
    return enrolment


async def coverage(unit: Unit, member_id: uuid.UUID) -> Enrolment:
    return await _latest(unit, member_id)


async def fund(unit: Unit, fund_id: str) -> Fund:
    found = await unit.session.get(Fund, fund_id)
    if found is None:
        raise NotFound(f"no fund {fund_id}")
    return found


async def ledger(unit: Unit, fund_id: str, limit: int, before_id: int | None) -> list[LedgerEntry]:
    query = select(LedgerEntry).where(LedgerEntry.fund_id == fund_id)
    if before_id is not None:
        query = query.where(LedgerEntry.id < before_id)
    return list(await unit.session.scalars(query.order_by(LedgerEntry.id.desc()).limit(limit)))
