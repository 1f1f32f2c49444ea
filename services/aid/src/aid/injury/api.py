"""aid's work-injury HTTP API: the worker's one-click report, the visitor app (accept, decline,
visit, discharge, follow-ups, duty), and the queries staff and inspectors use."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from aid.injury import dispatch, follow_ups, intake, queries, visits
from aid.injury.desk import Desk, find_case
from aid.injury.rules import may_handle, sla_state
from aid.models import FollowUp, InjuryCase
from gonghui_contracts.events import InjuryReported, RejectionReason
from gonghui_contracts.events.injury import VisitNeed
from gonghui_contracts.values import CompensationProblem, to_yuan
from gonghui_contracts.values.text import IDENTIFIER_PATTERN
from servicekit import Unit, UnitOfWork
from servicekit.clock import Clock
from servicekit.http import Day, Period, answers, period_parameter
from servicekit.identity import (
    Caller,
    Role,
    is_person,
    require_scope,
    requires,
    staff_region,
)

Worker = Annotated[Caller, Depends(requires(Role.MEMBER))]
Visitor = Annotated[Caller, Depends(requires(Role.VISITOR))]
VisitorOrStaff = Annotated[Caller, Depends(requires(Role.VISITOR, Role.STAFF))]
Staff = Annotated[Caller, Depends(requires(Role.STAFF))]


class ReportAnswer(BaseModel):
    outcome: str
    case_id: uuid.UUID | None
    reasons: list[RejectionReason]


class FollowUpView(BaseModel):
    sequence: int
    due_on: date
    status: str


class CaseView(BaseModel):
    case_id: uuid.UUID
    hospital_id: str
    district_code: str
    union_id: str
    industry: str
    employer_code: str
    injury_kind: str
    severity: str
    admission: str
    injured_on: date
    reports: int
    reported_at: datetime
    visit_due_at: datetime
    sla_state: str
    seconds_to_due: float = Field(description="Negative once the visit is late")
    visitor_id: str | None
    accept_by: datetime | None
    accepted_at: datetime | None
    offers: int
    visited_at: datetime | None
    needs: list[str]
    condolence: Decimal | None
    condolence_unpaid: bool
    discharged_on: date | None
    follow_ups: list[FollowUpView]
    referred: bool


VisitorPath = Annotated[str, Path(min_length=1, max_length=32, pattern=IDENTIFIER_PATTERN)]
REPORT_RULES = (
    "the hospital must be in aid's registry of designated work-injury hospitals; the resident "
    "ID's birth date and check character (GB 11643); a mainland mobile number; the employer's "
    "credit code check character (GB 32100); the day of injury not after today"
)


class AppReport(InjuryReported):
    """A report from the app: the worker's own (hospitals report over Kafka)."""

    reporter: Literal["worker"]


class VisitRecord(BaseModel):
    """The visitor is the token's: a body naming one is refused."""

    model_config = ConfigDict(extra="forbid")
    needs: list[VisitNeed] = Field(default_factory=list, max_length=2)
    compensation_problem: CompensationProblem | None = None


class DischargeRecord(BaseModel):
    discharged_on: Day


class FollowUpRecord(BaseModel):
    outcome: Literal["done", "missed"]
    compensation_problem: CompensationProblem | None = None


class Duty(BaseModel):
    on_duty: StrictBool


class VisitorView(BaseModel):
    visitor_id: str
    name: str
    station_hospital_id: str
    on_duty: bool
    open_visits: int


class Assignment(BaseModel):
    case_id: uuid.UUID
    hospital_id: str
    accept_by: datetime | None
    accepted: bool
    visit_due_at: datetime


class InjurySummary(BaseModel):
    since: datetime
    until: datetime
    reports: int
    cases: int
    merged_reports: int
    visited: int
    visited_within_sla: int
    awaiting_visit: int
    visits_escalated: int
    condolence_paid_cases: int
    condolence_paid: Decimal
    condolence_unpaid_cases: int
    discharged: int
    follow_ups: dict[str, int]
    referrals: int
    offers_passed_on: int = Field(description="Offers declined or lapsed: another visitor asked")


class Tally(BaseModel):
    key: str
    label: str | None
    cases: int
    serious_or_worse: int


class RepeatEmployer(BaseModel):
    credit_code: str
    name: str
    cases: int
    serious_or_worse: int
    districts: list[str]


def routers(uow: UnitOfWork, desk: Desk) -> list[APIRouter]:
    return [_case_router(uow, desk), _analysis_router(uow, desk.clock)]


def _case_router(uow: UnitOfWork, desk: Desk) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["work injuries"])

    async def case_in_scope(
        unit: Unit, case_id: uuid.UUID, caller: Caller, *, for_update: bool = False
    ) -> InjuryCase:
        """The case, if the caller is its visitor or staff of its district's unions (404)."""
        found = await find_case(unit, case_id, for_update=for_update)
        require_scope(may_handle(caller, found.district_code, found.visitor_id))
        return found

    async def view(unit: Unit, case: InjuryCase) -> CaseView:
        """The case as this unit leaves it, with its follow-ups and its SLA clock read now."""
        return _case_view(case, await queries.follow_ups(unit, case.case_id), desk)

    @api.post(
        "/injury-reports",
        response_model=ReportAnswer,
        status_code=201,
        responses={
            200: {"model": ReportAnswer, "description": "merged into the case of the same injury"},
            **answers(rules=REPORT_RULES, rejection=ReportAnswer),
        },
    )
    async def report(body: AppReport, caller: Worker) -> JSONResponse:
        """One-click report from the app (一键申报): 201 case opened, 200 merged into the case
        of the same injury, 422 with reasons when the report cannot be taken. The worker
        reports their own injury: the resident ID is the token's."""
        own = caller.resident_id or ""
        if own.upper() != body.worker.resident_id.upper():
            raise HTTPException(403, "a worker reports their own injury")
        # the same injury may be opened at this moment from another report
        result = await uow.once_more_on_conflict(lambda unit: intake.report(desk, unit, body))
        answer = ReportAnswer(
            outcome=result.outcome, case_id=result.case_id, reasons=list(result.reasons)
        )
        code = {"opened": 201, "rejected": 422}.get(result.outcome, 200)
        return JSONResponse(answer.model_dump(mode="json"), status_code=code)

    @api.get("/injury-cases/{case_id}", response_model=CaseView, responses=answers(404))
    async def case(case_id: uuid.UUID, caller: VisitorOrStaff) -> CaseView:
        async with uow() as unit:
            return await view(unit, await case_in_scope(unit, case_id, caller))

    @api.post(
        "/injury-cases/{case_id}/accept", response_model=CaseView, responses=answers(404, 409)
    )
    async def accept(case_id: uuid.UUID, caller: Visitor) -> CaseView:
        async with uow() as unit:
            return await view(unit, await dispatch.accept(desk, unit, case_id, caller.subject))

    @api.post(
        "/injury-cases/{case_id}/decline", response_model=CaseView, responses=answers(404, 409)
    )
    async def decline(case_id: uuid.UUID, caller: Visitor) -> CaseView:
        async with uow() as unit:
            return await view(unit, await dispatch.decline(desk, unit, case_id, caller.subject))

    @api.post("/injury-cases/{case_id}/visit", response_model=CaseView, responses=answers(404, 409))
    async def visit(case_id: uuid.UUID, body: VisitRecord, caller: Visitor) -> CaseView:
        async with uow() as unit:
            found = await visits.record_visit(
                desk,
                unit,
                case_id,
                visitor_id=caller.subject,
                needs=body.needs,
                problem=body.compensation_problem,
            )
            return await view(unit, found)

    @api.post(
        "/injury-cases/{case_id}/discharge", response_model=CaseView, responses=answers(404, 409)
    )
    async def discharge(
        case_id: uuid.UUID, body: DischargeRecord, caller: VisitorOrStaff
    ) -> CaseView:
        async with uow() as unit:
            found = await case_in_scope(unit, case_id, caller, for_update=True)
            await follow_ups.discharge(desk, unit, found, body.discharged_on, "visitor")
            return await view(unit, found)

    @api.post(
        "/injury-cases/{case_id}/follow-ups/{sequence}",
        response_model=FollowUpView,
        responses=answers(404, 409),
    )
    async def follow_up(
        case_id: uuid.UUID,
        sequence: Annotated[int, Path(ge=1, le=100)],
        body: FollowUpRecord,
        caller: VisitorOrStaff,
    ) -> FollowUpView:
        async with uow() as unit:
            await case_in_scope(unit, case_id, caller)
            done = await follow_ups.record(
                desk,
                unit,
                case_id,
                sequence,
                outcome=body.outcome,
                problem=body.compensation_problem,
            )
        return FollowUpView(sequence=done.sequence, due_on=done.due_on, status=done.status)

    @api.get("/visitors", response_model=list[VisitorView])
    async def visitors(caller: Staff) -> list[VisitorView]:
        async with uow() as unit:
            rows = await queries.visitors(unit)
        return [
            VisitorView(
                visitor_id=v.visitor_id,
                name=v.name,
                station_hospital_id=v.station_hospital_id,
                on_duty=v.on_duty,
                open_visits=n,
            )
            for v, n in rows
        ]

    @api.put("/visitors/{visitor_id}/duty", response_model=Duty, responses=answers(404))
    async def duty(visitor_id: VisitorPath, body: Duty, caller: VisitorOrStaff) -> Duty:
        """A visitor sets their own duty; staff anyone's."""
        require_scope(Role.STAFF in caller.roles or is_person(caller, Role.VISITOR, visitor_id))
        async with uow() as unit:
            visitor = await dispatch.set_duty(unit, visitor_id, body.on_duty)
        return Duty(on_duty=visitor.on_duty)

    @api.get("/visitors/{visitor_id}/assignments", response_model=list[Assignment])
    async def assignments(
        visitor_id: VisitorPath,
        caller: VisitorOrStaff,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> list[Assignment]:
        require_scope(Role.STAFF in caller.roles or is_person(caller, Role.VISITOR, visitor_id))
        async with uow() as unit:
            cases = await queries.open_assignments(unit, visitor_id, limit)
        return [
            Assignment(
                case_id=c.case_id,
                hospital_id=c.hospital_id,
                accept_by=c.accept_by,
                accepted=c.accepted_at is not None,
                visit_due_at=c.visit_due_at,
            )
            for c in cases
        ]

    return api


def _analysis_router(uow: UnitOfWork, clock: Clock) -> APIRouter:
    api = APIRouter(prefix="/v1/injuries", tags=["work-injury analysis"])
    period = period_parameter(
        clock.today, clock.zone, default_days=30, counted="cases by the day they were reported"
    )
    in_period = Depends(period)

    @api.get("/summary", response_model=InjurySummary)
    async def summary(caller: Staff, days: Period = in_period) -> InjurySummary:
        """The cases of the staff member's region."""
        start, end = days.start, days.end
        async with uow() as unit:
            found = await queries.summary(unit, start, end, staff_region(caller))
        return InjurySummary(
            since=start,
            until=end,
            reports=found.reports,
            cases=found.cases,
            merged_reports=found.merged_reports,
            visited=found.visited,
            visited_within_sla=found.visited_within_sla,
            awaiting_visit=found.awaiting_visit,
            visits_escalated=found.visits_escalated,
            condolence_paid_cases=found.condolence_paid_cases,
            condolence_paid=to_yuan(found.condolence_paid_cents),
            condolence_unpaid_cases=found.condolence_unpaid_cases,
            discharged=found.discharged,
            follow_ups=found.follow_ups,
            referrals=found.referrals,
            offers_passed_on=found.offers_passed_on,
        )

    @api.get("/by/{dimension}", response_model=list[Tally])
    async def by(
        dimension: queries.Dimension,
        caller: Staff,
        days: Period = in_period,
        limit: Annotated[int, Query(ge=1, le=1000)] = 50,
    ) -> list[Tally]:
        """The cases of the staff member's region by employer, industry or district."""
        region = staff_region(caller)
        async with uow() as unit:
            rows = await queries.injuries_by(
                unit, dimension, days.start, days.end, region=region, limit=limit
            )
        return [Tally(key=k, label=lbl, cases=n, serious_or_worse=s) for k, lbl, n, s in rows]

    @api.get("/repeat-employers", response_model=list[RepeatEmployer])
    async def repeat_employers(
        caller: Staff,
        days: Period = in_period,
        min_cases: Annotated[int, Query(ge=2, le=100_000)] = 3,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> list[RepeatEmployer]:
        """Employers with repeated injuries in the period in the staff member's region: the
        list for labour inspectors."""
        region = staff_region(caller)
        async with uow() as unit:
            rows = await queries.repeat_employers(
                unit, days.start, days.end, region=region, min_cases=min_cases, limit=limit
            )
        return [
            RepeatEmployer(credit_code=c, name=n, cases=k, serious_or_worse=s, districts=d)
            for c, n, k, s, d in rows
        ]

    return api


def _case_view(case: InjuryCase, scheduled: Sequence[FollowUp], desk: Desk) -> CaseView:
    now = desk.clock.now()
    return CaseView(
        case_id=case.case_id,
        hospital_id=case.hospital_id,
        district_code=case.district_code,
        union_id=case.union_id,
        industry=case.industry,
        employer_code=case.employer_code,
        injury_kind=case.injury_kind,
        severity=case.severity,
        admission=case.admission,
        injured_on=case.injured_on,
        reports=case.reports,
        reported_at=case.reported_at,
        visit_due_at=case.visit_due_at,
        sla_state=sla_state(now, case.visit_due_at, case.visited_at, desk.terms.reminder_before),
        seconds_to_due=(case.visit_due_at - now).total_seconds(),
        visitor_id=case.visitor_id,
        accept_by=case.accept_by,
        accepted_at=case.accepted_at,
        offers=case.offers,
        visited_at=case.visited_at,
        needs=case.needs.split(",") if case.needs else [],
        condolence=None if case.condolence_cents is None else to_yuan(case.condolence_cents),
        condolence_unpaid=case.condolence_unpaid,
        discharged_on=case.discharged_on,
        follow_ups=[FollowUpView.model_validate(f, from_attributes=True) for f in scheduled],
        referred=case.referral_id is not None,
    )
