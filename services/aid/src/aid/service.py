"""aid's use cases: enrolment on joining, leaving, self-paid enrolment, expiry, queries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select, update

from aid import domain, funds
from aid.domain import CoverStatus, Decision
from aid.errors import NotFound, Refused
from aid.models import Enrolment
from gonghui_contracts import Envelope
from gonghui_contracts.events import (
    CoverageEnded,
    GiftFundExhausted,
    InsuranceEnrolled,
    MemberJoined,
    MemberLeft,
    SelfPaidOffered,
)
from gonghui_contracts.values import to_yuan
from servicekit import Unit
from servicekit.db import insert_rows


@dataclass(frozen=True)
class FundTerms:
    fund_id: str
    name: str
    budget_cents: int
    premium_cents: int


def _now() -> datetime:
    return datetime.now(UTC)


async def open_fund(unit: Unit, terms: FundTerms) -> None:
    await funds.open_fund(
        unit,
        terms.fund_id,
        terms.name,
        terms.budget_cents,
        at=_now(),
        premium_cents=terms.premium_cents,
    )


async def enrol_all(unit: Unit, events: Sequence[Envelope[MemberJoined]], terms: FundTerms) -> None:
    """Enrol each new member for the policy year of their joining, once: one lookup of who is
    enrolled or offered already (a rejoin within the year), the gift fund debited once for
    the batch, one insert of the enrolments."""
    existing = await _enrolled_already(unit, [e.data for e in events])
    newcomers: list[tuple[Envelope[MemberJoined], domain.Period]] = []
    for event in events:
        period = domain.policy_period(event.data.joined_on)
        if (event.data.member_id, period.start.year) not in existing:
            existing.add((event.data.member_id, period.start.year))
            newcomers.append((event, period))
    gifted = [(e, p) for e, p in newcomers if e.data.new_employment_form]
    balances = await funds.debit_all(
        unit,
        terms.fund_id,
        [
            funds.Payment(
                "premium",
                terms.premium_cents,
                _now(),
                member_id=event.data.member_id,
                cause_event_id=event.event_id,
            )
            for event, _ in gifted
        ],
    )
    paid = {e.event_id for (e, _), after in zip(gifted, balances, strict=True) if after is not None}
    rows = []
    exhausted_by: Envelope[MemberJoined] | None = None
    for event, period in newcomers:
        joined = event.data
        decision = domain.decide(joined.new_employment_form, fund_paid=event.event_id in paid)
        row = {
            "member_id": joined.member_id,
            "policy_year": period.start.year,
            "premium_cents": terms.premium_cents,
            "period_start": period.start,
            "period_end": period.end,
            "status": CoverStatus.OFFERED,
            "paid_by": None,
            "fund_id": None,
            "offer_reason": None,
        }
        rows.append(row)
        key = str(joined.member_id)
        if decision is Decision.GIFT:
            row.update(status=CoverStatus.COVERED, paid_by="gift_fund", fund_id=terms.fund_id)
            unit.emit(
                InsuranceEnrolled(
                    member_id=joined.member_id,
                    policy_year=period.start.year,
                    period_start=period.start,
                    period_end=period.end,
                    premium=to_yuan(terms.premium_cents),
                    paid_by="gift_fund",
                    fund_id=terms.fund_id,
                ),
                key=key,
                cause=event,
            )
            continue
        row["offer_reason"] = decision.value
        unit.emit(
            SelfPaidOffered(
                member_id=joined.member_id,
                policy_year=period.start.year,
                premium=to_yuan(terms.premium_cents),
                reason=decision.value,
            ),
            key=key,
            cause=event,
        )
        if decision is Decision.FUND_EXHAUSTED and exhausted_by is None:
            exhausted_by = event
    await insert_rows(unit.session, Enrolment, rows)
    if exhausted_by is not None:
        await _announce_exhaustion(unit, terms, exhausted_by)


async def _enrolled_already(
    unit: Unit, joined: Sequence[MemberJoined]
) -> set[tuple[uuid.UUID, int]]:
    rows = await unit.session.execute(
        select(Enrolment.member_id, Enrolment.policy_year).where(
            Enrolment.member_id.in_({j.member_id for j in joined})
        )
    )
    return {(member_id, year) for member_id, year in rows.tuples()}


async def _announce_exhaustion(unit: Unit, terms: FundTerms, cause: Envelope[MemberJoined]) -> None:
    fund = await funds.mark_exhausted(unit, terms.fund_id, _now())
    if fund is None:
        return  # said before
    unit.emit(
        GiftFundExhausted(
            fund_id=terms.fund_id,
            budget=to_yuan(fund.budget_cents),
            balance=to_yuan(fund.balance_cents),
            premium=to_yuan(terms.premium_cents),
            gifted=fund.payments,
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
        premium=to_yuan(enrolment.premium_cents),
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
