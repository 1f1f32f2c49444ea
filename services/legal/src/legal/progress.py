"""A case along the chain: a move to a later stage (who and why), the one extension a stage allows,
and the close with its outcome. The chain's rules decide; a refused move changes nothing."""

from __future__ import annotations

import uuid
from decimal import Decimal

from gonghui_contracts.events import (
    LegalCaseClosed,
    SettlementConfirmed,
    StageChanged,
    StageExtended,
)
from gonghui_contracts.values import CaseOutcome, CaseStage, to_cents, to_yuan
from legal import metrics
from legal.answers import tell_partners
from legal.assignment import release
from legal.desk import Desk, emit, find_case, in_case_trace, record
from legal.errors import Refused
from legal.models import DisputeCase
from legal.rules.chain import (
    IllegalMove,
    check_confirmation,
    check_move,
    check_outcome,
    extended_due,
)
from servicekit import Unit


async def move(
    desk: Desk, unit: Unit, case_id: uuid.UUID, to: CaseStage, *, by: str, reason: str
) -> DisputeCase:
    case = await _open_case(unit, case_id)
    current = CaseStage(case.stage)
    passed = check_move(current, to, confirmed=case.confirmed_at is not None)
    now = desk.clock.now()
    with in_case_trace(case, f"move to {to.value}"):
        record(desk, unit, case, "moved", by=by, reason=reason, to_stage=to.value)
        case.stage = to.value
        case.stage_started_at = now
        case.stage_due_at = desk.terms.chain.due(to, now)
        case.stage_extended = False
        case.stage_reminded_at = case.stage_escalated_at = None
        changed = StageChanged(
            case_id=case.case_id,
            from_stage=current,
            to_stage=to,
            skipped=passed,
            by=by,
            reason=reason,
            due_at=case.stage_due_at,
        )
        emit(unit, case, changed)
    metrics.STAGE_MOVES.labels(current.value, to.value).inc()
    return case


async def extend(
    desk: Desk, unit: Unit, case_id: uuid.UUID, *, by: str, reason: str
) -> DisputeCase:
    case = await _open_case(unit, case_id)
    stage = CaseStage(case.stage)
    due = extended_due(desk.terms.chain, stage, case.stage_due_at, case.stage_extended)
    with in_case_trace(case, "extend stage"):
        record(desk, unit, case, "extended", by=by, reason=reason)
        case.stage_due_at, case.stage_extended = due, True
        case.stage_reminded_at = case.stage_escalated_at = None
        emit(
            unit,
            case,
            StageExtended(case_id=case.case_id, stage=stage, due_at=due, by=by, reason=reason),
        )
    return case


async def confirm(
    desk: Desk, unit: Unit, case_id: uuid.UUID, *, by: str, reason: str
) -> DisputeCase:
    """The court confirmed the mediated agreement (司法确认), as the union guided the parties."""
    case = await _open_case(unit, case_id)
    check_confirmation(CaseStage(case.stage), case.confirmed_at is not None)
    with in_case_trace(case, "record judicial confirmation"):
        record(desk, unit, case, "confirmed", by=by, reason=reason)
        case.confirmed_at = desk.clock.now()
        confirmed = SettlementConfirmed(
            case_id=case.case_id, by=by, reason=reason, confirmed_at=case.confirmed_at
        )
        emit(unit, case, confirmed)
    return case


async def close(
    desk: Desk,
    unit: Unit,
    case_id: uuid.UUID,
    outcome: CaseOutcome,
    *,
    amount: Decimal | None,
    workers_accepting: int | None,
    by: str,
    reason: str,
) -> DisputeCase:
    case = await _open_case(unit, case_id)
    stage = CaseStage(case.stage)
    check_outcome(stage, outcome, amount is not None)
    if workers_accepting is not None and not 0 < workers_accepting <= case.workers:
        raise IllegalMove(f"workers_accepting must be between 1 and the case's {case.workers}")
    now = desk.clock.now()
    with in_case_trace(case, f"close as {outcome.value}"):
        record(desk, unit, case, "closed", by=by, reason=f"{outcome.value}: {reason}")
        case.closed_at, case.outcome = now, outcome.value
        case.amount_cents = None if amount is None else to_cents(amount)
        case.workers_accepting = workers_accepting
        case.open_key = None  # the same dispute filed again later is a new case
        if case.lawyer_id is not None:
            await release(unit, case.lawyer_id)
        closed = LegalCaseClosed(
            case_id=case.case_id,
            stage=stage,
            outcome=outcome,
            amount=None if case.amount_cents is None else to_yuan(case.amount_cents),
            workers=case.workers,
            workers_accepting=workers_accepting,
            by=by,
            reason=reason,
            union_id=case.union_id,
            district_code=case.district_code,
            closed_at=now,
        )
        emit(unit, case, closed)
        await tell_partners(unit, case, "concluded", case_outcome=outcome, amount=closed.amount)
    metrics.CASES_CLOSED.labels(stage.value, outcome.value).inc()
    return case


async def _open_case(unit: Unit, case_id: uuid.UUID) -> DisputeCase:
    case = await find_case(unit, case_id, for_update=True)
    if case.closed_at is not None:
        raise Refused(f"the case is closed ({case.outcome})")
    return case
