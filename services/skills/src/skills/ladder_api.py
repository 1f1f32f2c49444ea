"""The craftsman ladder over HTTP: union staff set quotas, nominate, select candidates, record and
revoke titles, and read the quotas used; members see their titles."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select

from gonghui_contracts.values import Line
from servicekit import Unit, UnitOfWork
from servicekit.clock import Clock
from servicekit.http import answers
from servicekit.identity import Caller, Role, is_member, require_scope, staff_covers, staff_region
from skills import ladder
from skills.api import Limit, MemberOrStaff, Staff
from skills.ladder import NewNomination, NewTitle, Quota
from skills.models import CraftsmanTitle, LadderQuota, Member, Nomination

REGION = "a Guangdong city or county code of GB/T 2260"
YearQuery = Annotated[int, Query(ge=2000, le=2100)]


class QuotaView(BaseModel):
    region_code: str
    tier: str
    year: int
    quota: int
    used: int
    exhausted_at: datetime | None


class NominationView(BaseModel):
    nomination_id: uuid.UUID
    member_id: uuid.UUID
    region_code: str
    tier: str
    year: int
    source: str
    source_ref: str | None
    reason: str
    status: str
    nominated_at: datetime
    selected_at: datetime | None


class TitleView(BaseModel):
    title_id: uuid.UUID
    member_id: uuid.UUID
    tier: str
    year: int
    source: str
    reference: str
    recorded_at: datetime
    revoked_at: datetime | None
    revoke_reason: str | None


class Revocation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, Line(200)]


async def _staff_of_member(unit: Unit, caller: Caller, member_id: uuid.UUID) -> None:
    """Titles are kept by the worker's own union (or a union above it)."""
    member = await unit.session.get(Member, member_id)
    require_scope(member is not None and staff_covers(caller, member.region_code))


def router(uow: UnitOfWork, clock: Clock) -> APIRouter:
    api = APIRouter(prefix="/v1/ladder", tags=["craftsman ladder"])

    @api.put("/quotas", response_model=QuotaView, responses=answers(404, 409, rules=REGION))
    async def set_quota(body: Quota, caller: Staff) -> QuotaView:
        """A tier's candidates for a year in the staff member's region (never below those
        selected already)."""
        require_scope(staff_covers(caller, body.region_code))
        async with uow() as unit:
            row = await ladder.set_quota(unit, body)
            return QuotaView.model_validate(row, from_attributes=True)

    @api.get("/quotas", response_model=list[QuotaView])
    async def quotas(caller: Staff, year: YearQuery) -> list[QuotaView]:
        """Quotas and how much of each is used, in the staff member's region."""
        async with uow() as unit:
            rows = await unit.session.scalars(
                select(LadderQuota)
                .where(
                    LadderQuota.year == year,
                    LadderQuota.region_code.startswith(staff_region(caller)),
                )
                .order_by(LadderQuota.region_code, LadderQuota.tier)
            )
            return [QuotaView.model_validate(row, from_attributes=True) for row in rows]

    @api.post(
        "/nominations",
        response_model=NominationView,
        status_code=201,
        responses=answers(403, 404, 409, rules=REGION),
    )
    async def nominate(body: NewNomination, caller: Staff) -> NominationView:
        require_scope(staff_covers(caller, body.region_code))
        async with uow() as unit:
            row = await ladder.nominate(unit, body, by=caller.subject, now=clock.now())
            return NominationView.model_validate(row, from_attributes=True)

    @api.get("/nominations", response_model=list[NominationView])
    async def nominations(
        caller: Staff, year: YearQuery, status: str | None = None, limit: Limit = 100
    ) -> list[NominationView]:
        async with uow() as unit:
            query = select(Nomination).where(
                Nomination.year == year, Nomination.region_code.startswith(staff_region(caller))
            )
            if status:
                query = query.where(Nomination.status == status)
            rows = await unit.session.scalars(
                query.order_by(Nomination.nominated_at, Nomination.nomination_id).limit(limit)
            )
            return [NominationView.model_validate(row, from_attributes=True) for row in rows]

    @api.post(
        "/nominations/{nomination_id}/selection",
        response_model=NominationView,
        responses=answers(404, 409),
    )
    async def select_candidate(nomination_id: uuid.UUID, caller: Staff) -> NominationView:
        """The nominee becomes a candidate (培育对象), if the tier's quota has room."""
        async with uow() as unit:
            row = await ladder.find_nomination(unit, nomination_id)
            require_scope(staff_covers(caller, row.region_code))
            await ladder.select_candidate(unit, row, clock.now())
            return NominationView.model_validate(row, from_attributes=True)

    @api.post("/titles", response_model=TitleView, status_code=201, responses=answers(404, 409))
    async def record_title(body: NewTitle, caller: Staff) -> TitleView:
        async with uow() as unit:
            await _staff_of_member(unit, caller, body.member_id)
            row = await ladder.record_title(unit, body, by=caller.subject, now=clock.now())
            return TitleView.model_validate(row, from_attributes=True)

    @api.post(
        "/titles/{title_id}/revocation", response_model=TitleView, responses=answers(404, 409)
    )
    async def revoke(title_id: uuid.UUID, body: Revocation, caller: Staff) -> TitleView:
        async with uow() as unit:
            row = await ladder.find_title(unit, title_id)
            await _staff_of_member(unit, caller, row.member_id)
            await ladder.revoke_title(unit, row, body.reason, clock.now())
            return TitleView.model_validate(row, from_attributes=True)

    @api.get("/members/{member_id}/titles", response_model=list[TitleView], responses=answers(404))
    async def titles(member_id: uuid.UUID, caller: MemberOrStaff) -> list[TitleView]:
        """A worker's titles: their own, or anyone's for staff."""
        require_scope(is_member(caller, member_id) or Role.STAFF in caller.roles)
        async with uow() as unit:
            rows = await unit.session.scalars(
                select(CraftsmanTitle)
                .where(CraftsmanTitle.member_id == member_id)
                .order_by(CraftsmanTitle.recorded_at)
            )
            return [TitleView.model_validate(row, from_attributes=True) for row in rows]

    return api
