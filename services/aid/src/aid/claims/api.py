"""aid's claims HTTP API: a member's claims and their own claim for care outside the bureau's
feed; staff's review queue and decisions, relief cases, and the figures they report."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from aid.claims import queries, review
from aid.claims.desk import ClaimsDesk, find_claim, reasons_of
from aid.claims.rules import Figures
from aid.models import Claim, ClaimHistory, ClaimPayment, ReliefCase
from gonghui_contracts.events import RejectionReason
from gonghui_contracts.values import DiagnosisCategory, Identifier, Line, Yuan, to_cents, to_yuan
from servicekit import Unit, UnitOfWork
from servicekit.http import Period, answers, period_parameter
from servicekit.identity import (
    Caller,
    Role,
    is_member,
    require_scope,
    requires,
    staff_covers,
    staff_region,
)

Member = Annotated[Caller, Depends(requires(Role.MEMBER))]
MemberOrStaff = Annotated[Caller, Depends(requires(Role.MEMBER, Role.STAFF))]
Staff = Annotated[Caller, Depends(requires(Role.STAFF))]
Limit = Annotated[int, Query(ge=1, le=500)]
CLAIM_RULES = "aid must know the member (their union's record reached it)"


class HistoryRow(BaseModel):
    at: datetime
    actor: str
    action: str
    revision: int
    change: Decimal
    reason: str | None


class PaymentRow(BaseModel):
    payment_id: uuid.UUID
    kind: str
    amount: Decimal = Field(description="Negative: owed back by the member")
    status: str
    attempts: int
    paid_at: datetime | None


class ClaimView(BaseModel):
    claim_id: uuid.UUID
    origin: str
    reference: str
    revision: int
    member_id: uuid.UUID | None
    policy_year: int | None
    district_code: str | None
    hospital: str
    admitted_on: date
    discharged_on: date
    total_cost: Decimal
    basic_paid: Decimal
    out_of_pocket_in_list: Decimal
    diagnosis: str
    status: str
    decided_by: str
    proposed: Decimal = Field(description="What the rules give, within the yearly cap")
    payout: Decimal = Field(description="What the claim pays in all")
    reasons: list[RejectionReason]
    received_at: datetime
    decided_at: datetime
    history: list[HistoryRow] = Field(default_factory=list)
    payments: list[PaymentRow] = Field(default_factory=list)


class MemberClaim(BaseModel):
    """A member's own claim, for care the bureau's feed does not carry; staff review it."""

    model_config = ConfigDict(extra="forbid")
    reference: Annotated[str, Identifier(31, description="The member's own reference")]
    hospital: Annotated[str, Line(100)]
    admitted_on: date
    discharged_on: date
    total_cost: Yuan
    basic_paid: Yuan
    out_of_pocket_in_list: Yuan
    diagnosis: DiagnosisCategory


class Approve(BaseModel):
    """Pay what the rules give, within the yearly cap."""

    model_config = ConfigDict(extra="forbid")
    action: Literal["approve"]


class Reduce(BaseModel):
    """Pay less than the rules give: `amount` in all, with the reason."""

    model_config = ConfigDict(extra="forbid")
    action: Literal["reduce"]
    amount: Yuan
    reason: Annotated[str, Line(500)]


class Reject(BaseModel):
    """Pay nothing (and claw back anything paid), with the reason."""

    model_config = ConfigDict(extra="forbid")
    action: Literal["reject"]
    reason: Annotated[str, Line(500)]


Decision = Annotated[Approve | Reduce | Reject, Field(discriminator="action")]


class ReliefView(BaseModel):
    relief_id: uuid.UUID
    member_id: uuid.UUID
    policy_year: int
    union_id: str
    district_code: str
    out_of_pocket_after_payouts: Decimal
    linked_injury_cases: list[uuid.UUID]
    status: str
    granted: Decimal | None
    note: str | None
    opened_at: datetime
    decided_at: datetime | None


class ReliefOutcome(BaseModel):
    model_config = ConfigDict(extra="forbid")
    granted: Yuan | None = Field(default=None, description="None or 0: declined")
    note: Annotated[str, Line(200)]


class ClaimFigures(BaseModel):
    claims: int
    auto_approved: int
    approved_by_staff: int
    under_review: int
    rejected: int
    reversed: int
    auto_approval_rate: float = Field(description="Auto-approved / decided claims")
    payout: Decimal
    paid: Decimal
    clawed_back: Decimal
    condolence: Decimal
    relief_cases: int
    relief_granted: Decimal


class ClaimSummary(BaseModel):
    since: datetime
    until: datetime
    total: ClaimFigures
    by_city: dict[str, ClaimFigures]
    by_district: dict[str, ClaimFigures]
    by_month: dict[str, ClaimFigures]


def router(uow: UnitOfWork, desk: ClaimsDesk) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["mutual-aid claims"])
    period = period_parameter(
        desk.clock.today, desk.clock.zone, default_days=31, counted="claims by the day received"
    )
    in_period = Depends(period)

    def may_see(caller: Caller, claim: Claim) -> bool:
        if claim.member_id is not None and is_member(caller, claim.member_id):
            return True
        return Role.STAFF in caller.roles and (
            claim.district_code is None or staff_covers(caller, claim.district_code)
        )

    @api.get("/members/{member_id}/claims", response_model=list[ClaimView])
    async def member_claims(
        member_id: uuid.UUID, caller: MemberOrStaff, limit: Limit = 50
    ) -> list[ClaimView]:
        """A member's claims, newest first: their own, or any member's for staff (claims of
        members outside the staff member's region are left out)."""
        require_scope(is_member(caller, member_id) or Role.STAFF in caller.roles)
        async with uow() as unit:
            found = await queries.of_member(unit, member_id, limit)
        return [_view(claim) for claim in found if may_see(caller, claim)]

    @api.post(
        "/claims",
        response_model=ClaimView,
        status_code=201,
        responses=answers(404, rules=CLAIM_RULES),
    )
    async def claim(body: MemberClaim, caller: Member) -> ClaimView:
        """The member's own claim; the same reference again answers the same claim."""
        member_id = caller.member_id
        require_scope(member_id is not None)
        assert member_id is not None
        figures = Figures(
            admitted_on=body.admitted_on,
            discharged_on=body.discharged_on,
            total_cents=to_cents(body.total_cost),
            basic_paid_cents=to_cents(body.basic_paid),
            out_of_pocket_cents=to_cents(body.out_of_pocket_in_list),
            diagnosis=body.diagnosis,
        )

        async def take(unit: Unit) -> ClaimView:
            made = await review.member_claim(
                desk,
                unit,
                member_id,
                reference=body.reference,
                figures=figures,
                hospital=body.hospital,
            )
            return _view(made)

        return await uow.once_more_on_conflict(take)

    @api.get("/claims/{claim_id}", response_model=ClaimView, responses=answers(404))
    async def one(claim_id: uuid.UUID, caller: MemberOrStaff) -> ClaimView:
        async with uow() as unit:
            found = await find_claim(unit, claim_id)
            require_scope(may_see(caller, found))
            return _view(
                found,
                await queries.history(unit, claim_id),
                await queries.payments(unit, claim_id),
            )

    @api.get("/claims", response_model=list[ClaimView])
    async def queue(
        caller: Staff,
        status: Literal["under_review", "approved", "rejected", "reversed"] = "under_review",
        limit: Limit = 100,
        offset: Annotated[int, Query(ge=0, le=100_000, description="Page: claims skipped")] = 0,
    ) -> list[ClaimView]:
        """The claims in `status` of the staff member's region, oldest first, and those of
        persons who are not members, which every region's staff see: under review, the review
        queue, whose head is what to decide next."""
        async with uow() as unit:
            found = await queries.queue(unit, staff_region(caller), status, limit, offset)
        return [_view(claim) for claim in found]

    @api.post("/claims/{claim_id}/decision", response_model=ClaimView, responses=answers(404, 409))
    async def decide(claim_id: uuid.UUID, body: Decision, caller: Staff) -> ClaimView:
        """Approve (what the rules give), reduce (to `amount`, with a reason) or reject (with a
        reason) a claim under review; the decision, who and why, join its history."""
        async with uow() as unit:
            found = await find_claim(unit, claim_id, for_update=True)
            require_scope(may_see(caller, found))
            decision = review.StaffDecision(
                action=body.action,
                staff=caller.subject,
                reason=None if isinstance(body, Approve) else body.reason,
                amount_cents=to_cents(body.amount) if isinstance(body, Reduce) else None,
            )
            await review.decide(desk, unit, found, decision)
            return _view(
                found,
                await queries.history(unit, claim_id),
                await queries.payments(unit, claim_id),
            )

    @api.get("/relief-cases", response_model=list[ReliefView])
    async def relief_cases(
        caller: Staff,
        status: Literal["open", "granted", "declined"] = "open",
        limit: Limit = 100,
    ) -> list[ReliefView]:
        async with uow() as unit:
            found = await queries.relief_cases(unit, staff_region(caller), status, limit)
        return [_relief_view(relief) for relief in found]

    @api.post(
        "/relief-cases/{relief_id}/outcome",
        response_model=ReliefView,
        responses=answers(404, 409),
    )
    async def relief_outcome(
        relief_id: uuid.UUID, body: ReliefOutcome, caller: Staff
    ) -> ReliefView:
        async with uow() as unit:
            found = await unit.session.get(ReliefCase, relief_id)
            require_scope(found is not None and staff_covers(caller, found.district_code))
            decided = await review.decide_relief(
                desk,
                unit,
                relief_id,
                granted_cents=to_cents(body.granted) if body.granted else None,
                note=body.note,
                staff=caller.subject,
            )
            return _relief_view(decided)

    @api.get("/claims-summary", response_model=ClaimSummary)
    async def summary(caller: Staff, days: Period = in_period) -> ClaimSummary:
        """Claims of the staff member's region received in the period, in all and by city,
        district and month: decisions, the auto-approval rate, money paid, clawed back and given
        as condolence; relief cases opened in the period and what they granted."""
        async with uow() as unit:
            found = await queries.summary(unit, staff_region(caller), days.start, days.end)
        return ClaimSummary(
            since=days.start,
            until=days.end,
            total=_figures(found.total),
            by_city={key: _figures(value) for key, value in sorted(found.by_city.items())},
            by_district={key: _figures(value) for key, value in sorted(found.by_district.items())},
            by_month={key: _figures(value) for key, value in sorted(found.by_month.items())},
        )

    return api


def _view(
    claim: Claim,
    history: list[ClaimHistory] | None = None,
    payments: list[ClaimPayment] | None = None,
) -> ClaimView:
    return ClaimView(
        claim_id=claim.claim_id,
        origin=claim.origin,
        reference=claim.reference,
        revision=claim.revision,
        member_id=claim.member_id,
        policy_year=claim.policy_year,
        district_code=claim.district_code,
        hospital=claim.hospital,
        admitted_on=claim.admitted_on,
        discharged_on=claim.discharged_on,
        total_cost=to_yuan(claim.total_cents),
        basic_paid=to_yuan(claim.basic_paid_cents),
        out_of_pocket_in_list=to_yuan(claim.out_of_pocket_cents),
        diagnosis=claim.diagnosis,
        status=claim.status,
        decided_by=claim.decided_by,
        proposed=to_yuan(claim.proposed_cents),
        payout=to_yuan(claim.payout_cents),
        reasons=reasons_of(claim),
        received_at=claim.received_at,
        decided_at=claim.decided_at,
        history=[
            HistoryRow(
                at=row.at,
                actor=row.actor,
                action=row.action,
                revision=row.revision,
                change=Decimal(row.change_cents) / 100,
                reason=row.reason,
            )
            for row in history or []
        ],
        payments=[
            PaymentRow(
                payment_id=row.payment_id,
                kind=row.kind,
                amount=Decimal(row.amount_cents) / 100,
                status=row.status,
                attempts=row.attempts,
                paid_at=row.paid_at,
            )
            for row in payments or []
        ],
    )


def _relief_view(relief: ReliefCase) -> ReliefView:
    return ReliefView(
        relief_id=relief.relief_id,
        member_id=relief.member_id,
        policy_year=relief.policy_year,
        union_id=relief.union_id,
        district_code=relief.district_code,
        out_of_pocket_after_payouts=to_yuan(relief.out_of_pocket_after_cents),
        linked_injury_cases=json.loads(relief.linked_injury_cases),
        status=relief.status,
        granted=None if relief.granted_cents is None else to_yuan(relief.granted_cents),
        note=relief.note,
        opened_at=relief.opened_at,
        decided_at=relief.decided_at,
    )


def _figures(figures: queries.Figures) -> ClaimFigures:
    decided = figures.auto_approved + figures.approved_by_staff + figures.rejected
    return ClaimFigures(
        claims=figures.claims,
        auto_approved=figures.auto_approved,
        approved_by_staff=figures.approved_by_staff,
        under_review=figures.under_review,
        rejected=figures.rejected,
        reversed=figures.reversed,
        auto_approval_rate=round(figures.auto_approved / decided, 4) if decided else 0.0,
        payout=to_yuan(figures.payout_cents),
        paid=to_yuan(figures.paid_cents),
        clawed_back=to_yuan(figures.clawed_back_cents),
        condolence=to_yuan(figures.condolence_cents),
        relief_cases=figures.relief_cases,
        relief_granted=to_yuan(figures.relief_granted_cents),
    )
