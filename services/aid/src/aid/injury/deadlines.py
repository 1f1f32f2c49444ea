"""What time makes due, acted on by a periodic sweep: lapsed offers, cases still without a
visitor, reminders before the visit SLA runs out, escalation after, and follow-ups."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from aid import metrics
from aid.injury import dispatch, follow_ups, queries
from aid.injury.desk import Desk, emit, in_case_trace
from aid.models import InjuryCase
from gonghui_contracts.events import VisitDueSoon, VisitOverdue
from servicekit import Unit


async def sweep(desk: Desk, unit: Unit, limit: int = 500) -> dict[str, int]:
    """One pass; how many of each thing it did (at most `limit` of each).

    Cases are taken FOR UPDATE SKIP LOCKED, and the database checks their conditions again when
    it locks them: a case being visited at this moment is left to the next pass, never
    reassigned or escalated after its visit."""
    done = {
        "reoffered": await dispatch.reoffer_lapsed(desk, unit, limit),
        "offered_late": await dispatch.offer_waiting(desk, unit, limit),
        "reminded": await _remind(desk, unit, limit),
        "escalated": await _escalate_overdue(desk, unit, limit),
    }
    done.update(await follow_ups.advance(desk, unit, limit))
    await _measure_awaiting(desk, unit)
    await _recount_open_visits(desk, unit)
    return done


async def _remind(desk: Desk, unit: Unit, limit: int) -> int:
    now = desk.clock.now()
    due_soon = select(InjuryCase).where(
        InjuryCase.visited_at.is_(None),
        InjuryCase.reminded_at.is_(None),
        InjuryCase.visitor_id.is_not(None),
        InjuryCase.visit_due_at <= now + desk.terms.reminder_before,
        InjuryCase.visit_due_at > now,
    )
    count = 0
    for case in await unit.session.scalars(due_soon.limit(limit).with_for_update(skip_locked=True)):
        assert case.visitor_id is not None
        case.reminded_at = now
        with in_case_trace(case, "remind visitor"):
            reminder = VisitDueSoon(
                case_id=case.case_id, visitor_id=case.visitor_id, visit_due_at=case.visit_due_at
            )
            emit(unit, case, reminder)
        count += 1
    return count


async def _escalate_overdue(desk: Desk, unit: Unit, limit: int) -> int:
    now = desk.clock.now()
    overdue = select(InjuryCase).where(
        InjuryCase.visited_at.is_(None),
        InjuryCase.escalated_at.is_(None),
        InjuryCase.visit_due_at < now,
    )
    count = 0
    for case in await unit.session.scalars(overdue.limit(limit).with_for_update(skip_locked=True)):
        case.escalated_at = now
        with in_case_trace(case, "escalate overdue visit"):
            escalation = VisitOverdue(
                case_id=case.case_id,
                union_id=case.union_id,
                district_code=case.district_code,
                visitor_id=case.visitor_id,
                visit_due_at=case.visit_due_at,
            )
            emit(unit, case, escalation)
        metrics.ESCALATIONS.labels("visit").inc()
        count += 1
    return count


async def _recount_open_visits(desk: Desk, unit: Unit) -> None:
    """Write the database's counts of open visits back to the index that steers dispatch."""
    await desk.open_visits.reset(await queries.open_visits(unit))


async def _measure_awaiting(desk: Desk, unit: Unit) -> None:
    now: datetime = desk.clock.now()
    soon = now + desk.terms.reminder_before
    due = InjuryCase.visit_due_at
    for state, condition in (
        ("overdue", due < now),
        ("due_soon", (due >= now) & (due <= soon)),
        ("on_time", due > soon),
    ):
        count = await unit.session.scalar(
            select(func.count()).where(InjuryCase.visited_at.is_(None), condition)
        )
        metrics.AWAITING_VISIT.labels(state).set(count or 0)
