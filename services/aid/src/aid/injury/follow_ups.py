"""After discharge: follow-ups on set days (定期回访), each done, missed or, when nobody records
it within the grace days, escalated to the district union."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from sqlalchemy import select

from aid import metrics
from aid.errors import NotFound, Refused
from aid.injury import visits
from aid.injury.desk import Desk, emit, find_case, in_case_trace
from aid.injury.rules import FollowUpState, follow_up_dates, follow_up_step
from aid.models import FollowUp, InjuryCase
from gonghui_contracts.events import (
    FollowUpDue,
    FollowUpEscalated,
    FollowUpRecorded,
    FollowUpsScheduled,
)
from gonghui_contracts.values import CompensationProblem
from servicekit import Unit


async def discharge(
    desk: Desk,
    unit: Unit,
    case: InjuryCase,
    discharged_on: date,
    recorded_by: Literal["hospital", "visitor"],
) -> bool:
    """Record the discharge and schedule the follow-ups; False if it was recorded before."""
    if case.discharged_on is not None:
        return False
    if not case.injured_on <= discharged_on <= desk.clock.today():
        raise Refused("a discharge is dated between the injury and today")
    case.discharged_on = discharged_on
    dates = follow_up_dates(discharged_on, desk.terms.follow_up_days)
    for sequence, due_on in enumerate(dates, start=1):
        unit.session.add(
            FollowUp(
                case_id=case.case_id,
                sequence=sequence,
                due_on=due_on,
                status=FollowUpState.SCHEDULED.value,
            )
        )
    with in_case_trace(case, "schedule follow-ups"):
        scheduled = FollowUpsScheduled(
            case_id=case.case_id,
            discharged_on=discharged_on,
            recorded_by=recorded_by,
            due_dates=dates,
        )
        emit(unit, case, scheduled)
    return True


async def record(
    desk: Desk,
    unit: Unit,
    case_id: uuid.UUID,
    sequence: int,
    *,
    outcome: Literal["done", "missed"],
    problem: CompensationProblem | None,
) -> FollowUp:
    case = await find_case(unit, case_id, for_update=True)
    follow_up = await unit.session.scalar(
        select(FollowUp)
        .where(FollowUp.case_id == case_id, FollowUp.sequence == sequence)
        .with_for_update()
    )
    if follow_up is None:
        raise NotFound(f"case {case_id} has no follow-up {sequence}")
    if follow_up.status in {FollowUpState.DONE, FollowUpState.MISSED}:
        raise Refused(f"follow-up {sequence} is already recorded as {follow_up.status}")
    if follow_up.due_on > desk.clock.today():
        raise Refused(f"follow-up {sequence} is due on {follow_up.due_on}")
    follow_up.status, follow_up.recorded_at = outcome, desk.clock.now()
    with in_case_trace(case, "record follow-up"):
        recorded = FollowUpRecorded(
            case_id=case_id, sequence=sequence, outcome=outcome, compensation_problem=problem
        )
        emit(unit, case, recorded)
        if problem is not None:
            visits.refer(
                desk, unit, case, problem, raised_by="follow_up", visitor_id=case.visitor_id
            )
    return follow_up


async def advance(desk: Desk, unit: Unit, limit: int) -> dict[str, int]:
    """Follow-ups whose day has come are announced; those left unrecorded are escalated."""
    today = desk.clock.today()
    counts = {"follow_ups_due": 0, "follow_ups_escalated": 0}
    rows = await unit.session.execute(
        select(FollowUp, InjuryCase)
        .join(InjuryCase, InjuryCase.case_id == FollowUp.case_id)
        .where(
            FollowUp.status.in_([FollowUpState.SCHEDULED, FollowUpState.DUE]),
            FollowUp.due_on <= today,
        )
        .limit(limit)
        .with_for_update(of=FollowUp, skip_locked=True)
    )
    for follow_up, case in rows.tuples():
        before = FollowUpState(follow_up.status)
        after = follow_up_step(before, follow_up.due_on, today, desk.terms.follow_up_grace_days)
        if after is before:
            continue
        follow_up.status = after.value
        with in_case_trace(case, f"follow-up {after}"):
            if before is FollowUpState.SCHEDULED:
                due = FollowUpDue(
                    case_id=case.case_id,
                    sequence=follow_up.sequence,
                    due_on=follow_up.due_on,
                    visitor_id=case.visitor_id,
                )
                emit(unit, case, due)
                counts["follow_ups_due"] += 1
            if after is FollowUpState.ESCALATED:
                escalated = FollowUpEscalated(
                    case_id=case.case_id,
                    sequence=follow_up.sequence,
                    due_on=follow_up.due_on,
                    union_id=case.union_id,
                )
                emit(unit, case, escalated)
                metrics.ESCALATIONS.labels("follow_up").inc()
                counts["follow_ups_escalated"] += 1
    return counts
