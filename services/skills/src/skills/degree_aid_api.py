"""Degree aid over HTTP: union staff open cycles, screen, freeze the ranking and record payments;
members apply, see their applications and decline a grant."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from gonghui_contracts.values import Identifier, to_yuan
from servicekit import Unit, UnitOfWork
from servicekit.clock import Clock
from servicekit.http import answers
from servicekit.identity import Caller, is_member, require_scope, staff_covers
from skills import degree_aid
from skills.api import Limit, Member, MemberOrStaff, Offset, Staff, own_member
from skills.degree_aid import Application, NewCycle, Screening
from skills.models import DegreeAidApplication, DegreeAidCycle

CYCLE_RULES = (
    "a Guangdong city or county code of GB/T 2260; a cycle opens before it closes; a grant is "
    "a positive amount"
)


class CycleView(BaseModel):
    cycle_id: uuid.UUID
    name: str
    region_code: str
    budget: Decimal
    amount: Decimal
    cap: int
    opens_at: datetime
    closes_at: datetime
    status: str
    grants: int = Field(description="Grants standing now (granted or paid)")
    granted: Decimal = Field(description="What they commit of the budget")
    applications: dict[str, int] = Field(description="Applications by status")


class ApplicationView(BaseModel):
    application_id: uuid.UUID
    cycle_id: uuid.UUID
    member_id: uuid.UUID
    programme: str
    exam_score: int
    verified_score: int | None
    status: str
    reason: str | None
    rank: int | None
    applied_at: datetime
    paid_at: datetime | None


class Payment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reference: Annotated[str, Identifier(64, description="The payment's reference")]


def routers(uow: UnitOfWork, clock: Clock) -> list[APIRouter]:
    return [_members(uow, clock), _staff(uow, clock)]


async def _staffed_cycle(unit: Unit, cycle_id: uuid.UUID, caller: Caller) -> DegreeAidCycle:
    cycle = await degree_aid.find_cycle(unit, cycle_id)
    require_scope(staff_covers(caller, cycle.region_code))
    return cycle


async def _staffed_application(
    unit: Unit, application_id: uuid.UUID, caller: Caller
) -> DegreeAidApplication:
    application = await degree_aid.find_application(unit, application_id, for_update=True)
    await _staffed_cycle(unit, application.cycle_id, caller)
    return application


def _staff(uow: UnitOfWork, clock: Clock) -> APIRouter:
    """What union staff do: open cycles, screen, freeze the ranking, record payments."""
    api = APIRouter(prefix="/v1/degree-aid", tags=["degree aid"])

    @api.post(
        "/cycles",
        response_model=CycleView,
        status_code=201,
        responses=answers(404, rules=CYCLE_RULES),
    )
    async def open_cycle(body: NewCycle, caller: Staff) -> CycleView:
        """A cycle of the staff member's union."""
        require_scope(staff_covers(caller, body.region_code))
        async with uow() as unit:
            cycle = await degree_aid.open_cycle(unit, body, by=caller.subject)
            return _cycle_view(cycle, {})

    @api.get(
        "/cycles/{cycle_id}/applications",
        response_model=list[ApplicationView],
        responses=answers(404),
    )
    async def applications(
        cycle_id: uuid.UUID,
        caller: Staff,
        status: Annotated[
            str | None,
            Query(pattern="^(applied|passed|failed|waiting|granted|declined|paid)$"),
        ] = None,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> list[ApplicationView]:
        """The cycle's applications: by rank once ranked (the unranked after), else in the
        order they came."""
        async with uow() as unit:
            await _staffed_cycle(unit, cycle_id, caller)
            query = select(DegreeAidApplication).where(DegreeAidApplication.cycle_id == cycle_id)
            if status:
                query = query.where(DegreeAidApplication.status == status)
            rows = await unit.session.scalars(
                query.order_by(
                    DegreeAidApplication.rank.nulls_last(),
                    DegreeAidApplication.applied_at,
                    DegreeAidApplication.application_id,
                )
                .limit(limit)
                .offset(offset)
            )
            return [_application_view(row) for row in rows]

    @api.post(
        "/applications/{application_id}/screening",
        response_model=ApplicationView,
        responses=answers(404, 409, rules="a failed application needs the reason"),
    )
    async def screen(application_id: uuid.UUID, body: Screening, caller: Staff) -> ApplicationView:
        """Pass or fail (with the reason) before the ranking is frozen."""
        async with uow() as unit:
            application = await _staffed_application(unit, application_id, caller)
            await degree_aid.screen(unit, application, body, clock.now())
            return _application_view(application)

    @api.post("/cycles/{cycle_id}/ranking", response_model=CycleView, responses=answers(404, 409))
    async def freeze(cycle_id: uuid.UUID, caller: Staff) -> CycleView:
        """After the window, every application screened: rank who passed and grant the top."""
        async with uow() as unit:
            await _staffed_cycle(unit, cycle_id, caller)
            await degree_aid.freeze_ranking(unit, cycle_id, clock.now())
        async with uow() as unit:
            return _cycle_view(
                await degree_aid.find_cycle(unit, cycle_id), await _counts(unit, cycle_id)
            )

    @api.post(
        "/applications/{application_id}/payment",
        response_model=ApplicationView,
        responses=answers(404, 409),
    )
    async def payment(application_id: uuid.UUID, body: Payment, caller: Staff) -> ApplicationView:
        async with uow() as unit:
            application = await _staffed_application(unit, application_id, caller)
            await degree_aid.record_payment(unit, application, body.reference, clock.now())
            return _application_view(application)

    return api


def _members(uow: UnitOfWork, clock: Clock) -> APIRouter:
    """What members do: apply, see their applications, decline a grant."""
    api = APIRouter(prefix="/v1/degree-aid", tags=["degree aid"])

    @api.get("/cycles/{cycle_id}", response_model=CycleView, responses=answers(404))
    async def one_cycle(cycle_id: uuid.UUID, caller: MemberOrStaff) -> CycleView:
        async with uow() as unit:
            cycle = await degree_aid.find_cycle(unit, cycle_id)
            counts = await _counts(unit, cycle_id)
        return _cycle_view(cycle, counts)

    @api.post(
        "/cycles/{cycle_id}/applications",
        response_model=ApplicationView,
        status_code=201,
        responses=answers(403, 404, 409),
    )
    async def apply(cycle_id: uuid.UUID, body: Application, caller: Member) -> ApplicationView:
        """The member's application: one per cycle, within its window."""
        member_id = own_member(caller)

        async def work(unit: Unit) -> ApplicationView:
            made = await degree_aid.apply(unit, cycle_id, member_id, body, clock.now())
            return _application_view(made)

        return await uow.once_more_on_conflict(work)

    @api.get("/applications", response_model=list[ApplicationView], responses=answers(404))
    async def mine(caller: Member, limit: Limit = 20) -> list[ApplicationView]:
        member_id = own_member(caller)
        async with uow() as unit:
            rows = await unit.session.scalars(
                select(DegreeAidApplication)
                .where(DegreeAidApplication.member_id == member_id)
                .order_by(DegreeAidApplication.applied_at.desc())
                .limit(limit)
            )
            return [_application_view(row) for row in rows]

    @api.post(
        "/applications/{application_id}/decline",
        response_model=ApplicationView,
        responses=answers(404, 409),
    )
    async def decline(application_id: uuid.UUID, caller: MemberOrStaff) -> ApplicationView:
        """The grantee (or staff for them) declines: the grant passes down the ranking."""
        async with uow() as unit:
            application = await degree_aid.find_application(unit, application_id, for_update=True)
            if not is_member(caller, application.member_id):
                await _staffed_cycle(unit, application.cycle_id, caller)
            await degree_aid.decline(unit, application, clock.now())
            return _application_view(application)

    return api


async def _counts(unit: Unit, cycle_id: uuid.UUID) -> dict[str, int]:
    rows = await unit.session.execute(
        select(DegreeAidApplication.status, func.count())
        .where(DegreeAidApplication.cycle_id == cycle_id)
        .group_by(DegreeAidApplication.status)
    )
    return dict(rows.tuples().all())


def _cycle_view(cycle: DegreeAidCycle, counts: dict[str, int]) -> CycleView:
    return CycleView(
        cycle_id=cycle.cycle_id,
        name=cycle.name,
        region_code=cycle.region_code,
        budget=to_yuan(cycle.budget_cents),
        amount=to_yuan(cycle.amount_cents),
        cap=cycle.cap,
        opens_at=cycle.opens_at,
        closes_at=cycle.closes_at,
        status=cycle.status,
        grants=cycle.grants,
        granted=to_yuan(cycle.granted_cents),
        applications=counts,
    )


def _application_view(row: DegreeAidApplication) -> ApplicationView:
    return ApplicationView(
        application_id=row.application_id,
        cycle_id=row.cycle_id,
        member_id=row.member_id,
        programme=row.programme,
        exam_score=row.exam_score,
        verified_score=row.verified_score,
        status=row.status,
        reason=row.reason,
        rank=row.rank,
        applied_at=row.applied_at,
        paid_at=row.paid_at,
    )
