"""aid's HTTP API: a member's cover, self-paid enrolment, the fund and its ledger."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel

from aid import funds, service
from aid.errors import NotFound, Refused
from gonghui_contracts.values import to_yuan
from gonghui_contracts.values.text import IDENTIFIER_PATTERN
from servicekit import UnitOfWork
from servicekit.http import answers
from servicekit.identity import Caller, Role, is_member, require_scope, requires


class CoverageView(BaseModel):
    member_id: uuid.UUID
    policy_year: int
    status: str
    paid_by: str | None
    offer_reason: str | None
    premium: Decimal
    period_start: date
    period_end: date
    left_on: date | None
    ended_on: date | None


class FundView(BaseModel):
    fund_id: str
    name: str
    budget: Decimal
    balance: Decimal
    spent: Decimal
    premium: Decimal | None
    payments: int
    exhausted_at: datetime | None


class LedgerRow(BaseModel):
    id: int
    kind: str
    amount: Decimal
    balance_after: Decimal
    member_id: uuid.UUID | None
    case_id: uuid.UUID | None
    at: datetime


ERROR_STATUSES = {NotFound: 404, Refused: 409}
Member = Annotated[Caller, Depends(requires(Role.MEMBER))]
MemberOrStaff = Annotated[Caller, Depends(requires(Role.MEMBER, Role.STAFF))]
Staff = Annotated[Caller, Depends(requires(Role.STAFF))]
FundId = Annotated[str, Path(min_length=1, max_length=64, pattern=IDENTIFIER_PATTERN)]


def router(uow: UnitOfWork) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["aid"])

    @api.get("/coverage/{member_id}", response_model=CoverageView, responses=answers(404))
    async def coverage(member_id: uuid.UUID, caller: MemberOrStaff) -> CoverageView:
        """The member's own cover; staff see any member's (aid holds no member's region)."""
        require_scope(Role.STAFF in caller.roles or is_member(caller, member_id))
        async with uow() as unit:
            return _coverage_view(await service.coverage(unit, member_id))

    @api.post(
        "/coverage/{member_id}/self-pay", response_model=CoverageView, responses=answers(404, 409)
    )
    async def self_pay(member_id: uuid.UUID, caller: Member) -> CoverageView:
        require_scope(is_member(caller, member_id))
        async with uow() as unit:
            return _coverage_view(await service.accept_self_paid(unit, member_id))

    @api.get("/funds/{fund_id}", response_model=FundView, responses=answers(404))
    async def fund(fund_id: FundId, caller: Staff) -> FundView:
        async with uow() as unit:
            found = await funds.get(unit, fund_id)
        return FundView(
            fund_id=found.fund_id,
            name=found.name,
            budget=to_yuan(found.budget_cents),
            balance=to_yuan(found.balance_cents),
            spent=to_yuan(found.budget_cents - found.balance_cents),
            premium=None if found.premium_cents is None else to_yuan(found.premium_cents),
            payments=found.payments,
            exhausted_at=found.exhausted_at,
        )

    @api.get("/funds/{fund_id}/ledger", response_model=list[LedgerRow])
    async def ledger(
        fund_id: FundId,
        caller: Staff,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        before_id: Annotated[
            int | None, Query(ge=1, le=2**63 - 1, description="Page: rows older than this id")
        ] = None,
    ) -> list[LedgerRow]:
        async with uow() as unit:
            rows = await funds.ledger(unit, fund_id, limit, before_id)
        return [
            LedgerRow(
                id=r.id,
                kind=r.kind,
                amount=to_yuan(r.amount_cents),
                balance_after=to_yuan(r.balance_after_cents),
                member_id=r.member_id,
                case_id=r.case_id,
                at=r.at,
            )
            for r in rows
        ]

    return api


def _coverage_view(enrolment: Any) -> CoverageView:
    return CoverageView(
        member_id=enrolment.member_id,
        policy_year=enrolment.policy_year,
        status=enrolment.status,
        paid_by=enrolment.paid_by,
        offer_reason=enrolment.offer_reason,
        premium=to_yuan(enrolment.premium_cents),
        period_start=enrolment.period_start,
        period_end=enrolment.period_end,
        left_on=enrolment.left_on,
        ended_on=enrolment.ended_on,
    )
