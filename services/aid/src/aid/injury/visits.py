"""The visit: recorded by the visitor, it pays the condolence money (once per case, never past
the fund) and refers a compensation problem to legal aid (once per case)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from aid import funds, metrics
from aid.errors import NotFound, Refused
from aid.injury import dispatch
from aid.injury.desk import Desk, emit, find_case, in_case_trace
from aid.injury.rules import condolence_cents
from aid.models import (
    CASE_WORKER_NAME,
    CASE_WORKER_PHONE,
    CASE_WORKER_RESIDENT_ID,
    InjuryCase,
    Visitor,
)
from gonghui_contracts.events import (
    CaseReferredToLegal,
    CondolenceFundExhausted,
    CondolencePaid,
    LegalReferralRaised,
    VisitRecorded,
)
from gonghui_contracts.events.injury import Employer, InjuredWorker, VisitNeed
from gonghui_contracts.values import (
    Admission,
    CompensationProblem,
    Industry,
    InjuryKind,
    Severity,
    to_yuan,
)
from servicekit import Unit


async def record_visit(
    desk: Desk,
    unit: Unit,
    case_id: uuid.UUID,
    *,
    visitor_id: str,
    needs: Sequence[VisitNeed],
    problem: CompensationProblem | None,
) -> InjuryCase:
    case = await find_case(unit, case_id, for_update=True)
    if case.visited_at is not None:
        raise Refused("the visit is already recorded")
    if await unit.session.get(Visitor, visitor_id) is None:
        raise NotFound(f"no visitor {visitor_id}")
    if case.visitor_id not in {None, visitor_id}:
        raise Refused("the case is assigned to another visitor")
    now = desk.clock.now()
    with in_case_trace(case, "record visit"):
        if case.visitor_id is not None:
            await dispatch.close_offer(desk, unit, case, "visited")
        case.visitor_id, case.visited_at, case.visited_by = visitor_id, now, visitor_id
        listed = sorted(set(needs))
        case.needs = ",".join(listed) or None
        within = now <= case.visit_due_at
        recorded = VisitRecorded(
            case_id=case.case_id,
            visitor_id=visitor_id,
            visited_at=now,
            within_sla=within,
            needs=listed,
            compensation_problem=problem,
        )
        emit(unit, case, recorded)
        metrics.VISITS.labels("yes" if within else "no").inc()
        metrics.HOURS_TO_VISIT.observe((now - case.reported_at).total_seconds() / 3600)
        await _pay_condolence(desk, unit, case, now)
        if problem is not None:
            refer(desk, unit, case, problem, raised_by="visit", visitor_id=visitor_id)
    return case


async def _pay_condolence(desk: Desk, unit: Unit, case: InjuryCase, now: datetime) -> None:
    severity, admission = Severity(case.severity), Admission(case.admission)
    amount = condolence_cents(desk.terms.condolence, severity, admission)
    payment = funds.Payment("condolence", amount, now, case_id=case.case_id)
    fund_id = desk.terms.fund_id
    if await funds.debit(unit, fund_id, payment) is not None:
        case.condolence_cents = amount
        paid = CondolencePaid(
            case_id=case.case_id,
            amount=to_yuan(amount),
            fund_id=fund_id,
            severity=severity,
            admission=admission,
        )
        emit(unit, case, paid)
        return
    case.condolence_unpaid = True
    fund = await funds.mark_exhausted(unit, fund_id, now)
    if fund is not None:
        exhausted = CondolenceFundExhausted(
            fund_id=fund_id,
            budget=to_yuan(fund.budget_cents),
            balance=to_yuan(fund.balance_cents),
            payments=fund.payments,
            first_unpaid_case_id=case.case_id,
        )
        unit.emit(exhausted, key=fund_id)


def refer(
    desk: Desk,
    unit: Unit,
    case: InjuryCase,
    problem: CompensationProblem,
    *,
    raised_by: Literal["visit", "follow_up"],
    visitor_id: str | None,
) -> None:
    """Ask legal aid to take the worker's compensation up; once per case."""
    case.compensation_problem = problem.value
    if case.referral_id is not None:
        return
    case.referral_id = uuid.uuid4()
    vault = desk.vault
    referral = LegalReferralRaised(
        referral_id=case.referral_id,
        case_id=case.case_id,
        worker=InjuredWorker(
            name=vault.decrypt(case.worker_name, CASE_WORKER_NAME.at(case.case_id)),
            resident_id=vault.decrypt(
                case.worker_resident_id, CASE_WORKER_RESIDENT_ID.at(case.case_id)
            ),
            phone=vault.decrypt(case.worker_phone, CASE_WORKER_PHONE.at(case.case_id)),
        ),
        employer=Employer(credit_code=case.employer_code, name=case.employer_name),
        industry=Industry(case.industry),
        district_code=case.district_code,
        injured_on=case.injured_on,
        injury_kind=InjuryKind(case.injury_kind),
        severity=Severity(case.severity),
        problem=problem,
        raised_by=raised_by,
        visitor_id=visitor_id,
    )
    emit(unit, case, referral)
    emit(
        unit,
        case,
        CaseReferredToLegal(
            case_id=case.case_id,
            referral_id=case.referral_id,
            problem=problem,
            raised_by=raised_by,
        ),
    )
    metrics.REFERRALS.labels(problem.value).inc()
