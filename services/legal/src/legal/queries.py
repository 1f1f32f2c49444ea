"""What staff, district unions and the demo read: a case with its history, caseloads, the queue,
stage durations and settlements by district, employers under supervision, and a summary."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from statistics import median

from sqlalchemy import func, select

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


async def queue(unit: Unit, limit: int) -> Sequence[DisputeCase]:
    """Open cases no lawyer has accepted yet, in the order they are served."""
    return (
        await unit.session.scalars(
            select(DisputeCase)
            .where(OPEN_CASE, DisputeCase.accepted_at.is_(None))
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


async def by_district(unit: Unit, since: datetime, until: datetime) -> list[DistrictFigures]:
    """Cases opened in the period, by district: outcomes, amounts, median days per stage."""
    cases = (
        await unit.session.scalars(
            select(DisputeCase).where(DisputeCase.opened_at >= since, DisputeCase.opened_at < until)
        )
    ).all()
    figures: dict[str, DistrictFigures] = {}
    for case in cases:
        row = figures.setdefault(case.district_code, DistrictFigures(case.district_code))
        row.cases += 1
        if case.closed_at is not None:
            row.closed += 1
            row.recovered_cents += case.amount_cents or 0
            if case.outcome == "settled":
                row.settled += 1
                row.settled_cents += case.amount_cents or 0
    durations = await _stage_durations(unit, [c.case_id for c in cases])
    district_of = {c.case_id: c.district_code for c in cases}
    spent: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for case_id, stage, days in durations:
        spent[district_of[case_id]][stage].append(days)
    for district, stages in spent.items():
        figures[district].stage_days = {s: round(median(d), 1) for s, d in stages.items()}
    return sorted(figures.values(), key=lambda f: -f.cases)


async def _stage_durations(
    unit: Unit, case_ids: list[uuid.UUID]
) -> list[tuple[uuid.UUID, str, float]]:
    """Days each case spent in each stage it left (by a move or the close)."""
    found: list[tuple[uuid.UUID, str, float]] = []
    for start in range(0, len(case_ids), 500):
        chunk = case_ids[start : start + 500]
        events = await unit.session.scalars(
            select(CaseEvent)
            .where(
                CaseEvent.case_id.in_(chunk),
                CaseEvent.action.in_(("opened", "moved", "closed")),
            )
            .order_by(CaseEvent.case_id, CaseEvent.id)
        )
        entered: dict[uuid.UUID, datetime] = {}
        for event in events:
            if event.action != "opened":
                began = entered.get(event.case_id)
                if began is not None:
                    found.append(
                        (event.case_id, event.stage, (event.at - began).total_seconds() / 86400)
                    )
            entered[event.case_id] = event.at
    return found


async def supervised_employers(unit: Unit, letter: str | None, limit: int) -> Sequence[Letter]:
    """Each employer's current letter (the last one sent), optionally of one kind."""
    query = select(Letter).where(Letter.superseded_at.is_(None))
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


async def summary(unit: Unit, since: datetime, until: datetime) -> Summary:
    session = unit.session
    in_period = (DisputeCase.opened_at >= since) & (DisputeCase.opened_at < until)
    filings = Counter(
        dict(
            (
                await session.execute(
                    select(Filing.channel, func.count())
                    .where(Filing.received_at >= since, Filing.received_at < until)
                    .group_by(Filing.channel)
                )
            )
            .tuples()
            .all()
        )
    )
    merged = await session.scalar(
        select(func.count()).where(
            Filing.outcome == "merged", Filing.received_at >= since, Filing.received_at < until
        )
    )
    cases = (await session.scalars(select(DisputeCase).where(in_period))).all()
    ids = [c.case_id for c in cases]
    reached: Counter[str] = Counter()
    passed_on = escalations = 0
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = await session.execute(
            select(CaseEvent.action, CaseEvent.stage, CaseEvent.to_stage).where(
                CaseEvent.case_id.in_(chunk)
            )
        )
        for action, stage, to_stage in rows.tuples():
            if action == "opened":
                reached[stage] += 1
            elif action == "moved" and to_stage:
                reached[to_stage] += 1
            elif action in ("declined", "lapsed"):
                passed_on += 1
            elif action == "escalated":
                escalations += 1
    groups = [c for c in cases if c.group_dispute]
    settled_groups = [c for c in groups if c.outcome == "settled" and c.workers_accepting]
    warnings = Counter(
        dict(
            (
                await session.execute(
                    select(EarlyWarning.kind, func.count())
                    .where(EarlyWarning.raised_at >= since, EarlyWarning.raised_at < until)
                    .group_by(EarlyWarning.kind)
                )
            )
            .tuples()
            .all()
        )
    )
    letters: Counter[str] = Counter()
    responses: Counter[str] = Counter()
    for letter in await session.scalars(
        select(Letter).where(Letter.issued_at >= since, Letter.issued_at < until)
    ):
        letters[letter.letter] += 1
        responses[letter.response or "awaiting"] += 1
    return Summary(
        filings=dict(filings),
        filings_merged=merged or 0,
        cases=len(cases),
        group_disputes=len(groups),
        group_workers=sum(c.workers for c in groups),
        priority_cases=sum(c.priority for c in cases),
        workers=sum(c.workers for c in cases),
        claimed_cents=sum(c.claimed_cents for c in cases),
        assigned=sum(c.lawyer_id is not None for c in cases),
        accepted=sum(c.accepted_at is not None for c in cases),
        waiting_for_lawyer=sum(c.lawyer_id is None and c.closed_at is None for c in cases),
        offers_passed_on=passed_on,
        stages_reached={s.value: reached[s.value] for s in CaseStage},
        open_by_stage=dict(Counter(c.stage for c in cases if c.closed_at is None)),
        closed=dict(Counter(c.outcome for c in cases if c.outcome)),
        settled_cents=sum(c.amount_cents or 0 for c in cases if c.outcome == "settled"),
        recovered_cents=sum(c.amount_cents or 0 for c in cases if c.closed_at is not None),
        group_settlement_workers=sum(c.workers for c in settled_groups),
        group_settlement_accepting=sum(c.workers_accepting or 0 for c in settled_groups),
        escalations=escalations,
        warnings=dict(warnings),
        letters=dict(letters),
        letter_responses=dict(responses),
    )
