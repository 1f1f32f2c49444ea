"""membership's HTTP API: the app/QR join channel, transfers, leaving, queries."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from gonghui_contracts import RejectionReason
from gonghui_contracts.events.membership import JoinRequested
from gonghui_contracts.values import (
    Industry,
    JoinChannel,
    MobilePhone,
    RegionCode,
    ResidentId,
    guangdong_regions,
    mask_mobile,
)
from gonghui_contracts.values.text import Line
from membership import domain, service
from membership.models import MEMBER_PHONE
from servicekit import Unit, UnitOfWork
from servicekit.http import answers
from servicekit.identity import Caller, Role, require_scope, requires
from servicekit.pii import PiiVault

STRICT = ConfigDict(extra="forbid", hide_input_in_errors=True)
ERROR_STATUSES = {service.MemberNotFound: 404, domain.MembershipError: 409}
MemberOrStaff = Annotated[Caller, Depends(requires(Role.MEMBER, Role.STAFF))]
Staff = Annotated[Caller, Depends(requires(Role.STAFF))]

# The schema lists the codes, so that a code the schema accepts is one the service knows.
KnownRegion = Annotated[
    RegionCode,
    WithJsonSchema(
        {
            "type": "string",
            "enum": sorted(guangdong_regions()),
            "description": "GB/T 2260 code of a Guangdong city or county-level division",
        }
    ),
]
BEYOND_SCHEMA = (
    "the resident ID's birth date and check character (GB 11643) and the minimum age; "
    "a mainland mobile number (11 digits from 13 to 19, +86 and separators allowed)"
)


class JoinApplication(BaseModel):
    """A worker joining in the app, or by scanning a county's QR code (which carries its code)."""

    model_config = STRICT
    channel: Literal[JoinChannel.APP, JoinChannel.COUNTY_QR, JoinChannel.WORKER_STATION]
    name: Annotated[str, Line(50)]
    resident_id: ResidentId
    phone: MobilePhone
    region_code: KnownRegion
    industry: Industry
    employer: Annotated[str, Line(100)] | None = None
    platform: Annotated[str, Line(60)] | None = None


class JoinResponse(BaseModel):
    outcome: Literal["joined", "already_member", "rejected"]
    member_id: uuid.UUID | None = None
    union_id: str | None = None
    union_name: str | None = None
    reasons: list[RejectionReason] = Field(default_factory=list)


class TransferRequest(BaseModel):
    model_config = STRICT
    region_code: KnownRegion
    industry: Industry
    reason: Annotated[str, Line(200)]


class LeaveRequest(BaseModel):
    model_config = STRICT
    reason: Annotated[str, Line(200)]


class HistoryEntry(BaseModel):
    at: Any
    change: str
    from_union_id: str | None
    to_union_id: str | None
    reason: str | None


class MemberView(BaseModel):
    member_id: uuid.UUID
    union_id: str
    union_name: str
    region_code: str
    city_code: str
    industry: Industry
    new_employment_form: bool
    status: str
    joined_on: date
    left_on: date | None
    phone: str = Field(description="Masked")
    history: list[HistoryEntry]


def router(uow: UnitOfWork, vault: PiiVault, today: Callable[[], date]) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["membership"])

    @api.post(
        "/members",
        response_model=JoinResponse,
        status_code=status.HTTP_201_CREATED,
        responses={
            200: {"model": JoinResponse, "description": "Already a member"},
            **answers(rules=BEYOND_SCHEMA),
        },
    )
    async def join(
        application: JoinApplication, response: Response, caller: MemberOrStaff
    ) -> JoinResponse:
        """A member joins as the person their token was verified as; union staff (at a worker
        station) join a worker of a region their union covers."""
        if not domain.may_join(caller, application.resident_id, application.region_code):
            raise HTTPException(403, "a member joins as themself; staff within their union")
        request = JoinRequested(
            request_ref=f"app-{uuid.uuid4().hex}", partner_id="app", **application.model_dump()
        )

        async def join_once(unit: Unit) -> service.JoinResult:
            return await service.join(unit, vault, request, today())

        # the same person may be joining at this moment: the loser of the race is a repeat
        result = await uow.once_more_on_conflict(join_once)
        if result.outcome == "rejected":
            raise RequestValidationError(
                [
                    {"loc": ("body", r.field), "msg": r.rule, "type": "value_error"}
                    for r in result.reasons
                ]
            )
        if result.outcome == "already_member":
            response.status_code = status.HTTP_200_OK
        union = result.union
        return JoinResponse(
            outcome=result.outcome,
            member_id=result.member_id,
            union_id=union.union_id if union else None,
            union_name=union.name if union else None,
        )

    @api.get("/members/{member_id}", response_model=MemberView, responses=answers(404))
    async def get_member(member_id: uuid.UUID, caller: MemberOrStaff) -> MemberView:
        async with uow() as unit:
            member = await service.get_member(unit, member_id)
            require_scope(domain.in_scope(caller, member.member_id, member.region_code))
            entries = await service.history(unit, member_id)
        return MemberView(
            member_id=member.member_id,
            union_id=member.union_id,
            union_name=domain.union_for(member.region_code, Industry(member.industry)).name,
            region_code=member.region_code,
            city_code=member.city_code,
            industry=Industry(member.industry),
            new_employment_form=member.new_employment_form,
            status=member.status,
            joined_on=member.joined_on,
            left_on=member.left_on,
            phone=mask_mobile(vault.decrypt(member.phone_enc, MEMBER_PHONE.at(member.member_id))),
            history=[
                HistoryEntry(
                    at=h.at,
                    change=h.change,
                    from_union_id=h.from_union_id,
                    to_union_id=h.to_union_id,
                    reason=h.reason,
                )
                for h in entries
            ],
        )

    @api.post("/members/{member_id}/transfer", responses=answers(404, 409))
    async def transfer(
        member_id: uuid.UUID, body: TransferRequest, caller: MemberOrStaff
    ) -> dict[str, str]:
        async with uow() as unit:
            found = await service.get_member(unit, member_id)
            require_scope(domain.in_scope(caller, found.member_id, found.region_code))
            union = await service.transfer(
                unit,
                member_id,
                region_code=body.region_code,
                industry=body.industry,
                reason=body.reason,
                today=today(),
            )
        return {"union_id": union.union_id, "union_name": union.name}

    @api.post("/members/{member_id}/leave", responses=answers(404, 409))
    async def leave(
        member_id: uuid.UUID, body: LeaveRequest, caller: MemberOrStaff
    ) -> dict[str, str]:
        async with uow() as unit:
            found = await service.get_member(unit, member_id)
            require_scope(domain.in_scope(caller, found.member_id, found.region_code))
            await service.leave(unit, member_id, body.reason, today())
        return {"status": domain.MemberStatus.LEFT.value}

    @api.get("/stats/coverage")
    async def coverage(
        by: Annotated[
            Literal["city", "county", "industry", "new_employment_form"], Query()
        ] = "city",
        *,
        caller: Staff,
    ) -> dict[str, dict[str, int]]:
        """Members in counts only: any union's staff."""
        async with uow() as unit:
            return await service.coverage(unit, by)

    return api
