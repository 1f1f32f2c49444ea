"""Aid: the union's mutual-aid medical insurance (工会二次医保) and its gift fund."""

from __future__ import annotations

from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import Field

from gonghui_contracts.envelope import EventPayload
from gonghui_contracts.values import Yuan


class InsuranceEnrolled(EventPayload):
    """A member is covered for a policy period, paid by the gift fund or by the member."""

    EVENT_TYPE = "aid.insurance-enrolled"

    member_id: UUID
    policy_year: int
    period_start: date
    period_end: date = Field(description="Last day covered")
    premium: Yuan
    paid_by: Literal["gift_fund", "self"]
    fund_id: str | None = Field(default=None, description="The gift fund that paid, if any")


class SelfPaidOffered(EventPayload):
    """The member may enrol at their own cost: not eligible for a gift, or the fund is spent."""

    EVENT_TYPE = "aid.self-paid-offered"

    member_id: UUID
    policy_year: int
    premium: Yuan
    reason: Literal["fund_exhausted", "not_eligible_for_gift"]


class GiftFundExhausted(EventPayload):
    """The gift fund can no longer pay a premium; said once per fund."""

    EVENT_TYPE = "aid.gift-fund-exhausted"

    fund_id: str
    budget: Yuan
    balance: Yuan
    premium: Yuan
    gifted: int = Field(description="Members the fund paid for")


class CoverageEnded(EventPayload):
    """A former member's paid period is over."""

    EVENT_TYPE = "aid.coverage-ended"

    member_id: UUID
    ended_on: date
    reason: Literal["left_union"]
