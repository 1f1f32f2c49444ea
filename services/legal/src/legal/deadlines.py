"""What time makes due, acted on by a periodic sweep: lapsed offers, cases waiting for a lawyer,
reminders before a stage's deadline or the limitation, escalation to the district union after,
and supervision letters nobody answered.

Cases are taken FOR UPDATE SKIP LOCKED: one being moved at this moment is left to the next pass,
and the database checks the conditions again when it locks them."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import Select, func, select

from gonghui_contracts.events import DeadlineMissed, DeadlineNear
from gonghui_contracts.events.legal import Deadline
from gonghui_contracts.values import CaseStage
from legal import assignment, metrics, supervision
from legal.desk import Desk, emit, in_case_trace, record
from legal.models import OPEN_CASE, DisputeCase
from legal.rules.chain import BEFORE_ARBITRATION
from servicekit import Unit

BEFORE_ARBITRATION_VALUES = [stage.value for stage in BEFORE_ARBITRATION]


async def sweep(desk: Desk, unit: Unit, limit: int = 500) -> dict[str, int]:
    """One pass; how many of each thing it did (at most `limit` of each)."""
    done = {
        "reoffered": await assignment.reoffer_lapsed(desk, unit, limit),
        "assigned_from_queue": await assignment.offer_waiting(desk, unit, limit),
        "stage_reminders": await _remind_stage(desk, unit, limit),
        "stage_escalations": await _escalate_stage(desk, unit, limit),
        "limitation_reminders": await _remind_limitation(desk, unit, limit),
        "limitation_escalations": await _escalate_limitation(desk, unit, limit),
        "letters": await supervision.follow_unanswered(desk, unit, limit),
    }
    await measure(unit)
    return done


def _locked(query: Select[tuple[DisputeCase]], limit: int) -> Select[tuple[DisputeCase]]:
    return query.limit(limit).with_for_update(skip_locked=True)


async def _remind_stage(desk: Desk, unit: Unit, limit: int) -> int:
    now = desk.clock.now()
    soon = now + timedelta(days=desk.terms.chain.reminder_days)
    due_soon = select(DisputeCase).where(
        OPEN_CASE,
        DisputeCase.accepted_at.is_not(None),
        DisputeCase.stage_reminded_at.is_(None),
        DisputeCase.stage_due_at <= soon,
        DisputeCase.stage_due_at > now,
    )
    count = 0
    for case in await unit.session.scalars(_locked(due_soon, limit)):
        assert case.lawyer_id is not None
        case.stage_reminded_at = now
        with in_case_trace(case, "remind stage deadline"):
            emit(unit, case, _near(case, "stage", case.stage_due_at))
        count += 1
    return count


async def _escalate_stage(desk: Desk, unit: Unit, limit: int) -> int:
    now = desk.clock.now()
    overdue = select(DisputeCase).where(
        OPEN_CASE, DisputeCase.stage_escalated_at.is_(None), DisputeCase.stage_due_at < now
    )
    count = 0
    for case in await unit.session.scalars(_locked(overdue, limit)):
        case.stage_escalated_at = now
        with in_case_trace(case, "escalate stage deadline"):
            record(desk, unit, case, "escalated", by="system", reason="stage deadline passed")
            emit(unit, case, _missed(case, "stage", case.stage_due_at))
        metrics.ESCALATIONS.labels("stage").inc()
        count += 1
    return count


async def _remind_limitation(desk: Desk, unit: Unit, limit: int) -> int:
    today = desk.clock.today()
    soon = today + timedelta(days=desk.terms.chain.limitation_reminder_days)
    near = select(DisputeCase).where(
        OPEN_CASE,
        DisputeCase.accepted_at.is_not(None),
        DisputeCase.stage.in_(BEFORE_ARBITRATION_VALUES),
        DisputeCase.limitation_reminded_at.is_(None),
        DisputeCase.limitation_ends_on <= soon,
        DisputeCase.limitation_ends_on >= today,
    )
    count = 0
    for case in await unit.session.scalars(_locked(near, limit)):
        case.limitation_reminded_at = desk.clock.now()
        with in_case_trace(case, "remind limitation"):
            emit(unit, case, _near(case, "limitation", _end_of(desk, case)))
        count += 1
    return count


async def _escalate_limitation(desk: Desk, unit: Unit, limit: int) -> int:
    passed = select(DisputeCase).where(
        OPEN_CASE,
        DisputeCase.stage.in_(BEFORE_ARBITRATION_VALUES),
        DisputeCase.limitation_escalated_at.is_(None),
        DisputeCase.limitation_ends_on < desk.clock.today(),
    )
    count = 0
    for case in await unit.session.scalars(_locked(passed, limit)):
        case.limitation_escalated_at = desk.clock.now()
        with in_case_trace(case, "escalate limitation"):
            record(desk, unit, case, "escalated", by="system", reason="limitation passed")
            emit(unit, case, _missed(case, "limitation", _end_of(desk, case)))
        metrics.ESCALATIONS.labels("limitation").inc()
        count += 1
    return count


def _end_of(desk: Desk, case: DisputeCase) -> datetime:
    """The limitation's last day ends at midnight where the service works."""
    day_after = case.limitation_ends_on + timedelta(days=1)
    return datetime.combine(day_after, time(), tzinfo=desk.clock.zone)


def _near(case: DisputeCase, deadline: Deadline, due_at: datetime) -> DeadlineNear:
    assert case.lawyer_id is not None
    return DeadlineNear(
        case_id=case.case_id,
        deadline=deadline,
        stage=CaseStage(case.stage),
        lawyer_id=case.lawyer_id,
        due_at=due_at,
    )


def _missed(case: DisputeCase, deadline: Deadline, due_at: datetime) -> DeadlineMissed:
    return DeadlineMissed(
        case_id=case.case_id,
        deadline=deadline,
        stage=CaseStage(case.stage),
        union_id=case.union_id,
        district_code=case.district_code,
        lawyer_id=case.lawyer_id,
        due_at=due_at,
    )


async def measure(unit: Unit) -> None:
    waiting = await unit.session.scalar(
        select(func.count()).where(OPEN_CASE, DisputeCase.lawyer_id.is_(None))
    )
    metrics.WAITING.set(waiting or 0)
