"""What staff, district unions and the demo read: a case with its history, caseloads, the queue,
stage durations and settlements by district, employers under supervision, and a summary."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from statistics import median
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from gonghui_contracts.values import CaseStage
from legal.models import OPEN_CASE, CaseEvent, DisputeCase, EarlyWarning, Filing, Lawyer, Letter
from servicekit import Unit


async def history(unit: Unit, case_id: uuid.UUID) -> Sequence[CaseEvent]:
    return (
        await unit.session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
        )
    ).all()


async def caseloads(unit: Unit) -> list[tuple[Lawyer, int, int]]:
    """Every lawyer with open cases and cases accepted (open)."""
    rows = await unit.session.execute(
        select(
            DisputeCase.lawyer_id,
            func.count(),
            func.count(DisputeCase.accepted_at),
        )
        .where(OPEN_CASE, DisputeCase.lawyer_id.is_not(None))
        .group_by(DisputeCase.lawyer_id)
    )
    load = {lawyer: (n, accepted) for lawyer, n, accepted in rows.tuples()}
    lawyers = await unit.session.scalars(select(Lawyer).order_by(Lawyer.lawyer_id))
    return [(lw, *load.get(lw.lawyer_id, (0, 0))) for lw in lawyers]


async def queue(unit: Unit, limit: int, region: str) -> Sequence[DisputeCase]:
    """Open cases of the region no lawyer has accepted yet, in the order they are served."""
    return (
        await unit.session.scalars(
            select(DisputeCase)
            .where(OPEN_CASE, DisputeCase.accepted_at.is_(None), _in(region))
            .order_by(
                DisputeCase.priority.desc(),
                DisputeCase.group_dispute.desc(),
                DisputeCase.opened_at,
            )
            .limit(limit)
        )
    ).all()


@dataclass
class DistrictFigures:
    district_code: str
    cases: int = 0
    closed: int = 0
    settled: int = 0
    settled_cents: int = 0
    recovered_cents: int = 0  # settled, awarded, judged or enforced
    stage_days: dict[str, float] = field(default_factory=dict)  # median days spent per stage


async def by_district(
    unit: Unit, since: datetime, until: datetime, region: str
) -> list[DistrictFigures]:
    """Cases of the region opened in the period, by district: outcomes, amounts, median days per
    stage. Counted by the database; only the stage durations are read, three values each."""
    case = DisputeCase
    closed = case.closed_at.is_not(None)
    rows = await unit.session.execute(
        select(
            case.district_code,
            func.count(),
            func.count(case.closed_at),
            func.count().filter(case.outcome == "settled"),
            _total(case.amount_cents, case.outcome == "settled"),
            _total(case.amount_cents, closed),
        )
        .where(_opened_in(since, until), _in(region))
        .group_by(case.district_code)
    )
    figures = {
        district: DistrictFigures(district, n, n_closed, n_settled, int(settled), int(recovered))
        for district, n, n_closed, n_settled, settled, recovered in rows.tuples()
    }
    spent: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for district, stage, days in await _stage_durations(unit, since, until, region):
        spent[district][stage].append(days)
    for district, stages in spent.items():
        figures[district].stage_days = {s: round(median(d), 1) for s, d in stages.items()}
    return sorted(figures.values(), key=lambda f: -f.cases)


def _opened_in(since: datetime, until: datetime) -> ColumnElement[bool]:
    return (DisputeCase.opened_at >= since) & (DisputeCase.opened_at < until)


def _in(region: str, column: QueryableAttribute[str] = DisputeCase.district_code) -> Any:
    """Within a staff region: a GB/T 2260 prefix (`servicekit.identity.region_prefix`)."""
    return column.startswith(region)


def _total(column: QueryableAttribute[Any], where: ColumnElement[bool] | None = None) -> Any:
    summed = func.sum(column) if where is None else func.sum(column).filter(where)
    return func.coalesce(summed, 0)


async def _stage_durations(
    unit: Unit, since: datetime, until: datetime, region: str
) -> list[tuple[str, str, float]]:
    """(district, stage, days) for each stage a case opened in the period left, by a move or
    the close."""
    events = await unit.session.execute(
        select(CaseEvent.case_id, CaseEvent.action, CaseEvent.stage, CaseEvent.at)
        .add_columns(DisputeCase.district_code)
        .join(DisputeCase, DisputeCase.case_id == CaseEvent.case_id)
        .where(
            _opened_in(since, until),
            _in(region),
            CaseEvent.action.in_(("opened", "moved", "closed")),
        )
        .order_by(CaseEvent.case_id, CaseEvent.id)
    )
    found: list[tuple[str, str, float]] = []
    entered: dict[uuid.UUID, datetime] = {}
    for case_id, action, stage, at, district in events.tuples():
        began = entered.get(case_id)
        if action != "opened" and began is not None:
            found.append((district, stage, (at - began).total_seconds() / 86400))
        entered[case_id] = at
    return found


async def supervised_employers(
    unit: Unit, letter: str | None, limit: int, region: str
) -> Sequence[Letter]:
    """Each employer's current letter (the last one sent) sent by a union of the region,
    optionally of one kind."""
    query = select(Letter).where(Letter.superseded_at.is_(None), _in(region, Letter.district_code))
    if letter is not None:
        query = query.where(Letter.letter == letter)
    return (await unit.session.scalars(query.order_by(Letter.issued_at.desc()).limit(limit))).all()


@dataclass
class Summary:
    filings: dict[str, int]
    filings_merged: int
    cases: int
    group_disputes: int
    group_workers: int
    priority_cases: int
    workers: int
    claimed_cents: int
    assigned: int
    accepted: int
    waiting_for_lawyer: int
    offers_passed_on: int
    stages_reached: dict[str, int]
    open_by_stage: dict[str, int]
    closed: dict[str, int]
    settled_cents: int
    recovered_cents: int
    group_settlement_workers: int
    group_settlement_accepting: int
    escalations: int
    warnings: dict[str, int]
    letters: dict[str, int]
    letter_responses: dict[str, int]


async def summary(unit: Unit, since: datetime, until: datetime, region: str) -> Summary:
    """The region's cases, filings, warnings and letters of the period. Counted and summed by
    the database: what is read is a few rows of totals and groups."""
    session = unit.session
    case = DisputeCase
    in_period = _opened_in(since, until) & _in(region)
    received = (
        (Filing.received_at >= since)
        & (Filing.received_at < until)
        & Filing.case_id.in_(select(case.case_id).where(_in(region)))
    )
    filings = await _grouped(session, Filing.channel, received)
    merged = await session.scalar(
        select(func.count()).select_from(Filing).where(Filing.outcome == "merged", received)
    )
    group_settled = (
        case.group_dispute.is_(True)
        & (case.outcome == "settled")
        & (func.coalesce(case.workers_accepting, 0) > 0)
    )
    totals = (
        await session.execute(
            select(
                func.count(),
                func.count().filter(case.group_dispute.is_(True)),
                _total(case.workers, case.group_dispute.is_(True)),
                func.count().filter(case.priority.is_(True)),
                _total(case.workers),
                _total(case.claimed_cents),
                func.count(case.lawyer_id),
                func.count(case.accepted_at),
                func.count().filter(case.lawyer_id.is_(None) & case.closed_at.is_(None)),
                _total(case.amount_cents, case.outcome == "settled"),
                _total(case.amount_cents, case.closed_at.is_not(None)),
                _total(case.workers, group_settled),
                _total(case.workers_accepting, group_settled),
            ).where(in_period)
        )
    ).one()
    reached: Counter[str] = Counter()
    passed_on = escalations = 0
    moves = await session.execute(
        select(CaseEvent.action, CaseEvent.stage, CaseEvent.to_stage, func.count())
        .join(DisputeCase, DisputeCase.case_id == CaseEvent.case_id)
        .where(in_period)
        .group_by(CaseEvent.action, CaseEvent.stage, CaseEvent.to_stage)
    )
    for action, stage, to_stage, n in moves.tuples():
        if action == "opened":
            reached[stage] += n
        elif action == "moved" and to_stage:
            reached[to_stage] += n
        elif action in ("declined", "lapsed"):
            passed_on += n
        elif action == "escalated":
            escalations += n
    raised = (
        (EarlyWarning.raised_at >= since)
        & (EarlyWarning.raised_at < until)
        & _in(region, EarlyWarning.district_code)
    )
    issued = (
        (Letter.issued_at >= since) & (Letter.issued_at < until) & _in(region, Letter.district_code)
    )
    (
        cases,
        group_disputes,
        group_workers,
        priority_cases,
        workers,
        claimed,
        assigned,
        accepted,
        waiting,
        settled,
        recovered,
        settlement_workers,
        settlement_accepting,
    ) = (int(value) for value in totals)
    return Summary(
        filings=filings,
        filings_merged=merged or 0,
        cases=cases,
        group_disputes=group_disputes,
        group_workers=group_workers,
        priority_cases=priority_cases,
        workers=workers,
        claimed_cents=claimed,
        assigned=assigned,
        accepted=accepted,
        waiting_for_lawyer=waiting,
        offers_passed_on=passed_on,
        stages_reached={s.value: reached[s.value] for s in CaseStage},
        open_by_stage=await _grouped(session, case.stage, in_period & case.closed_at.is_(None)),
        closed=await _grouped(session, case.outcome, in_period & case.outcome.is_not(None)),
        settled_cents=settled,
        recovered_cents=recovered,
        group_settlement_workers=settlement_workers,
        group_settlement_accepting=settlement_accepting,
        escalations=escalations,
        warnings=await _grouped(session, EarlyWarning.kind, raised),
        letters=await _grouped(session, Letter.letter, issued),
        letter_responses=await _grouped(
            session, func.coalesce(Letter.response, "awaiting"), issued
        ),
    )


async def _grouped(
    session: AsyncSession,
    key: QueryableAttribute[Any] | ColumnElement[Any],
    where: ColumnElement[bool],
) -> dict[str, int]:
    rows = await session.execute(select(key, func.count()).where(where).group_by(key))
    return {str(k): int(n) for k, n in rows.tuples()}
