"""legal's HTTP API: walk-in filings at a station, the lawyer's actions on a case (accept,
decline, move, extend, close), employers' answers to letters, and the queries staff read.

Who acts is the bearer token's subject, never the body (a body naming one is refused): a lawyer
acts on the cases offered to them or that they took, and on their own duty; union staff on the
cases, lawyers and letters of the districts their union covers, and read the queue, lists and
figures of their region. Another district's case or letter answers 404."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from fastapi.responses import JSONResponse
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    WithJsonSchema,
)
from sqlalchemy import select

from gonghui_contracts.events import DisputeDetails, RejectionReason
from gonghui_contracts.events.injury import Reference
from gonghui_contracts.values import (
    CaseOutcome,
    CaseStage,
    EmployerResponse,
    FilingChannel,
    LetterKind,
    Yuan,
    to_yuan,
)
from gonghui_contracts.values.text import IDENTIFIER_PATTERN, Identifier, Line
from legal import assignment, intake, progress, queries, supervision
from legal.desk import Desk, find_case
from legal.errors import NotFound
from legal.models import OPEN_CASE, CaseEvent, DisputeCase, Lawyer, Letter
from legal.rules.access import handles_case, in_region, may_file_walk_in, sees_lawyer
from legal.rules.chain import deadline_state
from servicekit import Unit, UnitOfWork, invalid_value
from servicekit.http import Period, answers, period_parameter
from servicekit.identity import Caller, Role, require_scope, requires, staff_covers, staff_region

ActingLawyer = Annotated[Caller, Depends(requires(Role.LAWYER))]
LawyerOrStaff = Annotated[Caller, Depends(requires(Role.LAWYER, Role.STAFF))]
Staff = Annotated[Caller, Depends(requires(Role.STAFF))]
ACTOR_LENGTH = 64  # the history's and the letters' column for who did it
ACTING = ConfigDict(extra="forbid")  # who acts is the token's subject: a body naming one is refused
Why = Annotated[str, Line(200)]
LawyerPath = Annotated[str, Path(min_length=1, max_length=32, pattern=IDENTIFIER_PATTERN)]
_AMOUNT = re.compile(r"[0-9]{1,12}(\.[0-9]{1,2})?")


def _written_amount(value: object) -> object:
    if isinstance(value, str) and _AMOUNT.fullmatch(value):
        return value
    raise ValueError("must be yuan written as a string: at most 12 digits and 2 decimals")


# Written as a string only, so that the schema says exactly which amounts are taken.
Amount = Annotated[
    Yuan,
    BeforeValidator(_written_amount),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": rf"^{_AMOUNT.pattern}$",
            "description": "Amount in yuan, e.g. 150.00",
        }
    ),
]
FILING_RULES = (
    "the station must be one of legal's legal-service stations; each worker's resident ID "
    "(birth date and check character, GB 11643) and mobile number; the employer's credit code "
    "check character (GB 32100); the district a Guangdong code in GB/T 2260; each worker once; "
    "the claims adding up to at most the largest amount; the dispute within the limitation"
)
CASE_ANSWERS = answers(404, 409)


class WalkIn(DisputeDetails):
    """A dispute brought to a legal-service station in person."""

    station_id: Annotated[str, Identifier(32)]
    filing_ref: str = Reference


class FilingAnswer(BaseModel):
    outcome: str
    case_id: uuid.UUID | None
    reasons: list[RejectionReason]


class HistoryLine(BaseModel):
    at: datetime
    action: str
    stage: str
    to_stage: str | None
    lawyer_id: str | None
    by: str
    reason: str


class CaseView(BaseModel):
    case_id: uuid.UUID
    channel: str
    district_code: str
    union_id: str
    kind: str
    industry: str
    employer_code: str
    employer_name: str
    workers: int
    claimed: Decimal
    priority_groups: list[str]
    group_dispute: bool
    filings: int
    arose_on: date
    limitation_ends_on: date
    opened_at: datetime
    stage: str
    stage_due_at: datetime
    stage_extended: bool
    confirmed_at: datetime | None = Field(description="司法确认 of the mediated agreement")
    deadline_state: str
    seconds_to_due: float = Field(description="Negative once the stage is late")
    lawyer_id: str | None
    station_id: str | None
    accept_by: datetime | None
    accepted_at: datetime | None
    closed_at: datetime | None
    outcome: str | None
    amount: Decimal | None
    workers_accepting: int | None
    history: list[HistoryLine]


class Decline(BaseModel):
    model_config = ACTING
    reason: Why


class Move(BaseModel):
    model_config = ACTING
    to: CaseStage
    reason: Why


class Extension(BaseModel):
    """Why: an extension, a judicial confirmation."""

    model_config = ACTING
    reason: Why


class Close(BaseModel):
    model_config = ACTING
    outcome: CaseOutcome
    amount: Amount | None = None
    workers_accepting: StrictInt | None = Field(default=None, ge=1, le=2000)
    reason: Why


class Duty(BaseModel):
    on_duty: StrictBool


class Caseload(BaseModel):
    lawyer_id: str
    name: str
    station_id: str
    district_code: str
    capacity: int
    on_duty: bool
    open_cases: int
    accepted_cases: int


class StationLoad(BaseModel):
    station_id: str
    name: str
    district_code: str
    lawyers: int
    capacity: int
    open_cases: int


class QueueEntry(BaseModel):
    case_id: uuid.UUID
    priority_groups: list[str]
    group_dispute: bool
    workers: int
    kind: str
    district_code: str
    opened_at: datetime
    lawyer_id: str | None
    accept_by: datetime | None


class DistrictView(BaseModel):
    district_code: str
    cases: int
    closed: int
    settled: int
    settled_amount: Decimal
    recovered_amount: Decimal
    median_stage_days: dict[str, float]


class EmployerAnswer(BaseModel):
    model_config = ACTING
    response: EmployerResponse


class LetterView(BaseModel):
    letter_id: uuid.UUID
    letter: LetterKind
    employer_code: str
    employer_name: str
    union_id: str
    district_code: str
    cases: int
    issued_at: datetime
    respond_by: date
    response: str | None


class LegalSummary(BaseModel):
    since: datetime
    until: datetime
    filings: dict[str, int]
    filings_merged: int
    cases: int
    group_disputes: int
    group_workers: int
    priority_cases: int
    workers: int
    claimed: Decimal
    assigned: int
    accepted: int
    waiting_for_lawyer: int
    offers_passed_on: int
    stages_reached: dict[str, int]
    open_by_stage: dict[str, int]
    closed: dict[str, int]
    settled_amount: Decimal
    recovered_amount: Decimal
    group_settlement_workers: int
    group_settlement_accepting: int
    escalations: int
    warnings: dict[str, int]
    letters: dict[str, int]
    letter_responses: dict[str, int]


Limit = Annotated[int, Query(ge=1, le=1000)]


def routers(uow: UnitOfWork, desk: Desk) -> list[APIRouter]:
    return [
        _filing_router(uow, desk),
        _case_router(uow, desk),
        _lawyer_router(uow, desk),
        _figures_router(uow, desk),
    ]


def _actor(caller: Caller) -> str:
    """Who did it, as the case's history and the letters keep it: the token's subject."""
    if len(caller.subject) > ACTOR_LENGTH:
        raise HTTPException(403, f"a token's subject of over {ACTOR_LENGTH} characters")
    return caller.subject


def _filing_router(uow: UnitOfWork, desk: Desk) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["disputes"])

    async def station_of(caller: Caller) -> str | None:
        if Role.LAWYER not in caller.roles:
            return None
        async with uow() as unit:
            lawyer = await unit.session.get(Lawyer, caller.subject)
            return None if lawyer is None else lawyer.station_id

    @api.post(
        "/filings",
        response_model=FilingAnswer,
        status_code=201,
        responses={
            200: {
                "model": FilingAnswer,
                "description": "the same dispute: its open case, or a repeated filing",
            },
            **answers(rules=FILING_RULES, rejection=FilingAnswer),
        },
    )
    async def walk_in(body: WalkIn, caller: LawyerOrStaff) -> JSONResponse:
        """A walk-in at a legal-service station, filed by a lawyer of that station or by staff
        of a union covering the station's or the dispute's district: 201 case opened, 200 the
        dispute's open case (a repeat, or the same dispute filed before), 422 with reasons."""
        station = desk.terms.stations.get(body.station_id)
        if station is None:
            raise invalid_value(("body", "station_id"), "no legal-service station has this id")
        allowed = may_file_walk_in(
            caller,
            station_id=station.station_id,
            station_district=station.district_code,
            dispute_district=body.district_code,
            lawyer_station=await station_of(caller),
        )
        if not allowed:
            raise HTTPException(403, "a station's lawyers and the covering unions' staff file")
        details = DisputeDetails.model_validate(
            body.model_dump(exclude={"station_id", "filing_ref"})
        )

        async def take(unit: Unit) -> intake.FilingResult:
            channel, ref = FilingChannel.WALK_IN, body.filing_ref
            return await intake.file(desk, unit, channel, ref, details, station_id=body.station_id)

        # the same dispute may be opened at this moment through another channel
        result = await uow.once_more_on_conflict(take)
        answer = FilingAnswer(
            outcome=result.outcome, case_id=result.case_id, reasons=list(result.reasons)
        )
        code = {"opened": 201, "rejected": 422}.get(result.outcome, 200)
        return JSONResponse(answer.model_dump(mode="json"), status_code=code)

    return api


def _case_router(uow: UnitOfWork, desk: Desk) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["disputes"])

    async def view(unit: Unit, case: DisputeCase) -> CaseView:
        return _case_view(desk, case, await queries.history(unit, case.case_id))

    async def case_in_scope(
        unit: Unit, case_id: uuid.UUID, caller: Caller, *, for_update: bool = True
    ) -> DisputeCase:
        """The case (locked for this unit unless only read), if the caller handles it (404
        otherwise)."""
        found = await find_case(unit, case_id, for_update=for_update)
        require_scope(handles_case(caller, found.district_code, found.lawyer_id))
        return found

    @api.get("/cases/{case_id}", response_model=CaseView, responses=answers(404))
    async def case(case_id: uuid.UUID, caller: LawyerOrStaff) -> CaseView:
        """The case, for its lawyer and for staff of the unions covering its district."""
        async with uow() as unit:
            return await view(unit, await case_in_scope(unit, case_id, caller, for_update=False))

    @api.post("/cases/{case_id}/accept", response_model=CaseView, responses=CASE_ANSWERS)
    async def accept(case_id: uuid.UUID, caller: ActingLawyer) -> CaseView:
        """The lawyer the case is offered to takes it up."""
        async with uow() as unit:
            await case_in_scope(unit, case_id, caller)
            return await view(unit, await assignment.accept(desk, unit, case_id, caller.subject))

    @api.post("/cases/{case_id}/decline", response_model=CaseView, responses=CASE_ANSWERS)
    async def decline(case_id: uuid.UUID, body: Decline, caller: ActingLawyer) -> CaseView:
        """The lawyer the case is offered to passes it on."""
        async with uow() as unit:
            await case_in_scope(unit, case_id, caller)
            found = await assignment.decline(desk, unit, case_id, caller.subject, body.reason)
            return await view(unit, found)

    @api.post("/cases/{case_id}/moves", response_model=CaseView, responses=CASE_ANSWERS)
    async def move(case_id: uuid.UUID, body: Move, caller: LawyerOrStaff) -> CaseView:
        """Move the case to a later stage (its lawyer, or staff of its district's unions); 409
        naming the rule if the chain does not allow it."""
        async with uow() as unit:
            await case_in_scope(unit, case_id, caller)
            found = await progress.move(
                desk, unit, case_id, body.to, by=_actor(caller), reason=body.reason
            )
            return await view(unit, found)

    @api.post("/cases/{case_id}/extension", response_model=CaseView, responses=CASE_ANSWERS)
    async def extend(case_id: uuid.UUID, body: Extension, caller: LawyerOrStaff) -> CaseView:
        async with uow() as unit:
            await case_in_scope(unit, case_id, caller)
            found = await progress.extend(
                desk, unit, case_id, by=_actor(caller), reason=body.reason
            )
            return await view(unit, found)

    @api.post(
        "/cases/{case_id}/judicial-confirmation", response_model=CaseView, responses=CASE_ANSWERS
    )
    async def confirm(case_id: uuid.UUID, body: Extension, caller: Staff) -> CaseView:
        """The court confirmed the mediated agreement (司法确认), recorded by staff of the
        unions covering the case's district: from now on the case may go from mediation
        straight to enforcement."""
        async with uow() as unit:
            await case_in_scope(unit, case_id, caller)
            found = await progress.confirm(
                desk, unit, case_id, by=_actor(caller), reason=body.reason
            )
            return await view(unit, found)

    @api.post("/cases/{case_id}/close", response_model=CaseView, responses=CASE_ANSWERS)
    async def close(case_id: uuid.UUID, body: Close, caller: LawyerOrStaff) -> CaseView:
        async with uow() as unit:
            await case_in_scope(unit, case_id, caller)
            found = await progress.close(
                desk,
                unit,
                case_id,
                body.outcome,
                amount=body.amount,
                workers_accepting=body.workers_accepting,
                by=_actor(caller),
                reason=body.reason,
            )
            return await view(unit, found)

    @api.get("/queue", response_model=list[QueueEntry])
    async def queue(caller: Staff, limit: Limit = 200) -> list[QueueEntry]:
        """The region's cases no lawyer has accepted yet, in the order they are served:
        priority groups first, then collective disputes, then the oldest."""
        async with uow() as unit:
            cases = await queries.queue(unit, limit, staff_region(caller))
        return [
            QueueEntry(
                case_id=c.case_id,
                priority_groups=_split(c.priority_groups),
                group_dispute=c.group_dispute,
                workers=c.workers,
                kind=c.kind,
                district_code=c.district_code,
                opened_at=c.opened_at,
                lawyer_id=c.lawyer_id,
                accept_by=c.accept_by,
            )
            for c in cases
        ]

    return api


def _lawyer_router(uow: UnitOfWork, desk: Desk) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["lawyers, supervision and figures"])

    async def lawyer_in_scope(unit: Unit, lawyer_id: str, caller: Caller) -> Lawyer:
        """The lawyer, for themself and for staff covering their station's district (404)."""
        lawyer = await unit.session.get(Lawyer, lawyer_id)
        if lawyer is None:
            raise NotFound(f"no lawyer {lawyer_id}")
        require_scope(sees_lawyer(caller, lawyer.lawyer_id, lawyer.district_code))
        return lawyer

    @api.get("/lawyers", response_model=list[Caseload])
    async def lawyers(caller: Staff) -> list[Caseload]:
        """The lawyers of the staff member's region, with their caseloads."""
        region = staff_region(caller)
        async with uow() as unit:
            rows = await queries.caseloads(unit)
        return [
            Caseload(
                lawyer_id=lw.lawyer_id,
                name=lw.name,
                station_id=lw.station_id,
                district_code=lw.district_code,
                capacity=lw.capacity,
                on_duty=lw.on_duty,
                open_cases=n,
                accepted_cases=accepted,
            )
            for lw, n, accepted in rows
            if in_region(region, lw.district_code)
        ]

    @api.get("/stations", response_model=list[StationLoad])
    async def stations(caller: Staff) -> list[StationLoad]:
        """The stations of the staff member's region, with their lawyers' caseloads."""
        region = staff_region(caller)
        async with uow() as unit:
            rows = await queries.caseloads(unit)
        loads: dict[str, StationLoad] = {}
        for lawyer, n, _ in rows:
            station = desk.terms.stations.get(lawyer.station_id)
            if station is None or not in_region(region, station.district_code):
                continue
            load = loads.setdefault(
                station.station_id,
                StationLoad(
                    station_id=station.station_id,
                    name=station.name,
                    district_code=station.district_code,
                    lawyers=0,
                    capacity=0,
                    open_cases=0,
                ),
            )
            load.lawyers += 1
            load.capacity += lawyer.capacity
            load.open_cases += n
        return list(loads.values())

    @api.put("/lawyers/{lawyer_id}/duty", response_model=Duty, responses=answers(404))
    async def duty(lawyer_id: LawyerPath, body: Duty, caller: LawyerOrStaff) -> Duty:
        """A lawyer goes on or off duty; staff covering the lawyer's district may set it."""
        async with uow() as unit:
            await lawyer_in_scope(unit, lawyer_id, caller)
            lawyer = await assignment.set_duty(unit, lawyer_id, body.on_duty)
        return Duty(on_duty=lawyer.on_duty)

    @api.get("/lawyers/{lawyer_id}/cases", response_model=list[uuid.UUID], responses=answers(404))
    async def lawyer_cases(
        lawyer_id: LawyerPath, caller: LawyerOrStaff, limit: Limit = 200
    ) -> list[uuid.UUID]:
        """The lawyer's open cases (offered or accepted): for the lawyer, and for staff
        covering the lawyer's district."""
        async with uow() as unit:
            await lawyer_in_scope(unit, lawyer_id, caller)
            found = await unit.session.scalars(
                select(DisputeCase.case_id)
                .where(DisputeCase.lawyer_id == lawyer_id, OPEN_CASE)
                .order_by(DisputeCase.opened_at)
                .limit(limit)
            )
            return list(found)

    return api


def _figures_router(uow: UnitOfWork, desk: Desk) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["lawyers, supervision and figures"])
    period = period_parameter(
        desk.clock.today, desk.clock.zone, default_days=365, counted="cases by the day opened"
    )
    in_period = Depends(period)

    @api.get("/disputes/by-district", response_model=list[DistrictView])
    async def by_district(caller: Staff, days: Period = in_period) -> list[DistrictView]:
        """Cases of the staff member's region opened in the period by district: settlements
        and amounts recovered, and the median days spent in each stage."""
        async with uow() as unit:
            rows = await queries.by_district(unit, days.start, days.end, staff_region(caller))
        return [
            DistrictView(
                district_code=r.district_code,
                cases=r.cases,
                closed=r.closed,
                settled=r.settled,
                settled_amount=to_yuan(r.settled_cents),
                recovered_amount=to_yuan(r.recovered_cents),
                median_stage_days=r.stage_days,
            )
            for r in rows
        ]

    @api.get("/disputes/summary", response_model=LegalSummary)
    async def summary(caller: Staff, days: Period = in_period) -> LegalSummary:
        """The staff member's region: its cases, filings, warnings and letters."""
        start, end = days.start, days.end
        async with uow() as unit:
            found = await queries.summary(unit, start, end, staff_region(caller))
        counts = vars(found).copy()
        return LegalSummary(
            since=start,
            until=end,
            claimed=to_yuan(counts.pop("claimed_cents")),
            settled_amount=to_yuan(counts.pop("settled_cents")),
            recovered_amount=to_yuan(counts.pop("recovered_cents")),
            **counts,
        )

    @api.get("/supervision/employers", response_model=list[LetterView])
    async def supervised(
        caller: Staff, letter: LetterKind | None = None, limit: Limit = 200
    ) -> list[LetterView]:
        """Employers under labour-law supervision by the last letter the unions of the staff
        member's region sent them."""
        async with uow() as unit:
            letters = await queries.supervised_employers(
                unit, letter.value if letter else None, limit, staff_region(caller)
            )
        return [LetterView.model_validate(x, from_attributes=True) for x in letters]

    @api.post(
        "/supervision/letters/{letter_id}/response",
        response_model=LetterView,
        responses=answers(404, 409),
    )
    async def respond(letter_id: uuid.UUID, body: EmployerAnswer, caller: Staff) -> LetterView:
        """The employer's answer, recorded by staff of a union covering the letter's district."""
        async with uow() as unit:
            sent = await unit.session.get(Letter, letter_id, with_for_update=True)
            require_scope(sent is not None and staff_covers(caller, sent.district_code))
            found = await supervision.respond(desk, unit, letter_id, body.response, _actor(caller))
            return LetterView.model_validate(found, from_attributes=True)

    return api


def _split(text: str) -> list[str]:
    return [part for part in text.split(",") if part]


def _case_view(desk: Desk, case: DisputeCase, lines: Sequence[CaseEvent]) -> CaseView:
    now = desk.clock.now()
    reminder = timedelta(days=desk.terms.chain.reminder_days)
    return CaseView(
        case_id=case.case_id,
        channel=case.channel,
        district_code=case.district_code,
        union_id=case.union_id,
        kind=case.kind,
        industry=case.industry,
        employer_code=case.employer_code,
        employer_name=case.employer_name,
        workers=case.workers,
        claimed=to_yuan(case.claimed_cents),
        priority_groups=_split(case.priority_groups),
        group_dispute=case.group_dispute,
        filings=case.filings,
        arose_on=case.arose_on,
        limitation_ends_on=case.limitation_ends_on,
        opened_at=case.opened_at,
        stage=case.stage,
        stage_due_at=case.stage_due_at,
        stage_extended=case.stage_extended,
        confirmed_at=case.confirmed_at,
        deadline_state="closed"
        if case.closed_at
        else deadline_state(now, case.stage_due_at, reminder),
        seconds_to_due=(case.stage_due_at - now).total_seconds(),
        lawyer_id=case.lawyer_id,
        station_id=case.station_id,
        accept_by=case.accept_by,
        accepted_at=case.accepted_at,
        closed_at=case.closed_at,
        outcome=case.outcome,
        amount=None if case.amount_cents is None else to_yuan(case.amount_cents),
        workers_accepting=case.workers_accepting,
        history=[HistoryLine.model_validate(line, from_attributes=True) for line in lines],
    )
