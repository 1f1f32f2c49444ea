"""Reading work-injury data: cases, visitors' loads, and the source analysis (源头治理) the
union hands to inspectors: injuries by employer, industry and district, and repeat employers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import ColumnElement, func, null, select

from aid.models import FollowUp, InjuryCase, InjuryReport, VisitOffer, Visitor
from servicekit import Unit

Dimension = Literal["employer", "industry", "district"]


def _period(since: datetime, until: datetime, region: str) -> ColumnElement[bool]:
    """Cases reported in the period in the region (a GB/T 2260 prefix: the staff's union's,
    `servicekit.identity.staff_prefix`)."""
    return (
        (InjuryCase.reported_at >= since)
        & (InjuryCase.reported_at < until)
        & InjuryCase.district_code.startswith(region)
    )


async def open_visits(unit: Unit) -> dict[str, int]:
    """Cases assigned and not yet visited, by visitor: the database's count."""
    counts = (
        await unit.session.execute(
            select(InjuryCase.visitor_id, func.count())
            .where(InjuryCase.visited_at.is_(None), InjuryCase.visitor_id.is_not(None))
            .group_by(InjuryCase.visitor_id)
        )
    ).tuples()
    return {visitor_id: n for visitor_id, n in counts if visitor_id is not None}


async def visitors(unit: Unit) -> list[tuple[Visitor, int]]:
    counts = await open_visits(unit)
    roster = await unit.session.scalars(select(Visitor).order_by(Visitor.visitor_id))
    return [(v, counts.get(v.visitor_id, 0)) for v in roster]


async def open_assignments(unit: Unit, visitor_id: str, limit: int) -> list[InjuryCase]:
    return list(
        await unit.session.scalars(
            select(InjuryCase)
            .where(InjuryCase.visitor_id == visitor_id, InjuryCase.visited_at.is_(None))
            .order_by(InjuryCase.visit_due_at)
            .limit(limit)
        )
    )


async def follow_ups(unit: Unit, case_id: object) -> list[FollowUp]:
    return list(
        await unit.session.scalars(
            select(FollowUp).where(FollowUp.case_id == case_id).order_by(FollowUp.sequence)
        )
    )


@dataclass(frozen=True)
class Summary:
    reports: int
    cases: int
    merged_reports: int
    visited: int
    visited_within_sla: int
    awaiting_visit: int
    visits_escalated: int
    condolence_paid_cases: int
    condolence_paid_cents: int
    condolence_unpaid_cases: int
    discharged: int
    follow_ups: dict[str, int]
    referrals: int
    offers_passed_on: int  # offers declined or left to lapse, so another visitor was asked


async def summary(unit: Unit, since: datetime, until: datetime, region: str) -> Summary:
    in_period = _period(since, until, region)
    count = func.count()
    case = InjuryCase
    row = (
        await unit.session.execute(
            select(
                count,
                func.coalesce(func.sum(case.reports), 0),
                func.count(case.visited_at),
                func.count().filter(case.visited_at <= case.visit_due_at),
                func.count().filter(case.visited_at.is_(None)),
                func.count(case.escalated_at),
                func.count(case.condolence_cents),
                func.coalesce(func.sum(case.condolence_cents), 0),
                func.count().filter(case.condolence_unpaid.is_(True)),
                func.count(case.discharged_on),
                func.count(case.referral_id),
            ).where(in_period)
        )
    ).one()
    reports = await unit.session.scalar(
        select(func.count())
        .select_from(InjuryReport)
        .join(InjuryCase, InjuryCase.case_id == InjuryReport.case_id)
        .where(in_period)
    )
    follow_up_counts = dict(
        (
            await unit.session.execute(
                select(FollowUp.status, func.count())
                .join(InjuryCase, InjuryCase.case_id == FollowUp.case_id)
                .where(in_period)
                .group_by(FollowUp.status)
            )
        )
        .tuples()
        .all()
    )
    passed_on = await unit.session.scalar(
        select(func.count())
        .select_from(VisitOffer)
        .join(InjuryCase, InjuryCase.case_id == VisitOffer.case_id)
        .where(in_period, VisitOffer.status.in_(["lapsed", "declined"]))
    )
    cases, report_sum = int(row[0]), int(row[1])
    return Summary(
        reports=int(reports or 0),
        cases=cases,
        merged_reports=report_sum - cases,
        visited=row[2],
        visited_within_sla=row[3],
        awaiting_visit=row[4],
        visits_escalated=row[5],
        condolence_paid_cases=row[6],
        condolence_paid_cents=int(row[7]),
        condolence_unpaid_cases=row[8],
        discharged=row[9],
        follow_ups=follow_up_counts,
        referrals=row[10],
        offers_passed_on=int(passed_on or 0),
    )


async def injuries_by(
    unit: Unit,
    dimension: Dimension,
    since: datetime,
    until: datetime,
    *,
    region: str,
    limit: int,
) -> list[tuple[str, str | None, int, int]]:
    """(key, label, cases, serious or worse) per employer, industry or district, most first."""
    key = {
        "employer": InjuryCase.employer_code,
        "industry": InjuryCase.industry,
        "district": InjuryCase.district_code,
    }[dimension]
    label = func.max(InjuryCase.employer_name) if dimension == "employer" else null()
    serious = func.count().filter(InjuryCase.severity.in_(["serious", "critical", "fatal"]))
    rows = await unit.session.execute(
        select(key, label, func.count(), serious)
        .where(_period(since, until, region))
        .group_by(key)
        .order_by(func.count().desc(), key)
        .limit(limit)
    )
    return [(str(k), lbl, int(n), int(s)) for k, lbl, n, s in rows.tuples()]


async def repeat_employers(
    unit: Unit, since: datetime, until: datetime, *, region: str, min_cases: int, limit: int
) -> list[tuple[str, str, int, int, list[str]]]:
    """Employers with at least `min_cases` injuries in the period in the region: (credit code,
    name, cases, serious or worse, districts)."""
    serious = func.count().filter(InjuryCase.severity.in_(["serious", "critical", "fatal"]))
    rows = (
        await unit.session.execute(
            select(
                InjuryCase.employer_code, func.max(InjuryCase.employer_name), func.count(), serious
            )
            .where(_period(since, until, region))
            .group_by(InjuryCase.employer_code)
            .having(func.count() >= min_cases)
            .order_by(func.count().desc(), InjuryCase.employer_code)
            .limit(limit)
        )
    ).tuples()
    found = []
    for code, name, cases, worse in rows:
        districts = await unit.session.scalars(
            select(InjuryCase.district_code)
            .where(_period(since, until, region), InjuryCase.employer_code == code)
            .distinct()
            .order_by(InjuryCase.district_code)
        )
        found.append((code, name, int(cases), int(worse), list(districts)))
    return found
