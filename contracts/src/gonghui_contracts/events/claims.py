"""Mutual-aid claims without paperwork (免审即享): the medical-insurance bureau's hospital
settlements in, payouts, condolence for serious illness and hardship-relief referrals out.

The bureau publishes each settlement, and every correction or reversal (冲正) of it, to its own
topic, `partner.aid.settlements.v1.<bureau id>`, keyed by `settlement_id`, and reads what became
of each on `partner.aid.settlement-outcomes.v1.<bureau id>`. A settlement's revisions are
numbered: 0 is the settlement, each correction a higher number that replaces every lower one,
and a reversal is the last word. Whatever order they arrive in, the member ends up paid what the
highest revision gives, once.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar, Literal
from uuid import UUID

from pydantic import Field

from gonghui_contracts.envelope import STRICT, EventPayload, RejectionReason, SenderFields
from gonghui_contracts.values import (
    DiagnosisCategory,
    Identifier,
    Line,
    RegionCode,
    ResidentId,
    Yuan,
)

SettlementId = Annotated[
    str,
    Identifier(
        64, description="The bureau's id of the settlement; its corrections and reversal keep it"
    ),
]
BureauId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=40,
        pattern=r"^[a-z0-9-]+$",
        description="The bureau whose topic carries it (another id is rejected)",
    ),
]
Revision = Annotated[
    int,
    Field(
        ge=0,
        le=9999,
        description="0 for the settlement; a correction or reversal carries a higher number "
        "than every revision it replaces",
    ),
]
ClaimOrigin = Literal["settlement", "member"]


class SettlementRecorded(EventPayload):
    """A hospital stay settled by the basic medical insurance (医保结算), or a correction of one
    (a higher revision of the same settlement)."""

    model_config = STRICT
    EVENT_TYPE = "aid.settlement-recorded"
    SENDER_FIELDS: ClassVar[SenderFields] = {"bureau_id": "partner_id"}

    settlement_id: SettlementId
    revision: Revision
    bureau_id: BureauId
    resident_id: ResidentId
    hospital: Annotated[str, Line(100)]
    admitted_on: date
    discharged_on: date
    total_cost: Yuan
    basic_paid: Yuan = Field(description="What the basic medical insurance paid")
    out_of_pocket_in_list: Yuan = Field(
        description="The insured person's own part of the costs within the policy list"
    )
    diagnosis: DiagnosisCategory


class SettlementReversed(EventPayload):
    """The bureau cancels a settlement (冲正): whatever it paid is clawed back."""

    model_config = STRICT
    EVENT_TYPE = "aid.settlement-reversed"
    SENDER_FIELDS: ClassVar[SenderFields] = {"bureau_id": "partner_id"}

    settlement_id: SettlementId
    revision: Revision
    bureau_id: BureauId
    reason: Annotated[str, Line(200)]


class SettlementOutcome(EventPayload):
    """The answer to a settlement, correction or reversal, on the bureau's outcome topic."""

    EVENT_TYPE = "aid.settlement-outcome"

    settlement_id: str
    revision: int
    bureau_id: str | None = None
    outcome: Literal["approved", "under_review", "superseded", "reversed", "rejected"]
    claim_id: UUID | None = None
    payout: Yuan | None = Field(default=None, description="What the claim pays in all, now")
    reasons: list[RejectionReason] = Field(default_factory=list)


class ClaimDecided(EventPayload):
    """A claim was approved (automatically or by staff), put under review, or rejected.

    `payout` is what the claim pays in all after this decision; `change` what this decision
    moves (negative: clawed back)."""

    EVENT_TYPE = "aid.claim-decided"

    claim_id: UUID
    member_id: UUID | None
    origin: ClaimOrigin
    decision: Literal["approved", "under_review", "rejected", "reversed"]
    decided_by: Literal["auto", "staff"]
    policy_year: int | None = None
    payout: Yuan
    change: Annotated[str, Field(pattern=r"^-?\d{1,12}\.\d{2}$", description="Signed yuan")]
    reasons: list[RejectionReason] = Field(default_factory=list)
    city_code: RegionCode | None = None
    district_code: RegionCode | None = None


class ClaimPaid(EventPayload):
    """Money reached the member through the payment channel."""

    EVENT_TYPE = "aid.claim-paid"

    claim_id: UUID
    payment_id: UUID
    member_id: UUID
    amount: Yuan
    kind: Literal["payout", "condolence"]


class ClaimPaymentFailed(EventPayload):
    """The payment channel refused a payment every time it was tried: an operator must act."""

    EVENT_TYPE = "aid.claim-payment-failed"

    claim_id: UUID
    payment_id: UUID
    member_id: UUID
    amount: Yuan
    attempts: int
    reason: str = Field(max_length=200)


class ClaimClawedBack(EventPayload):
    """A correction or reversal took back part or all of what a claim had paid: the member
    owes it back to the fund (recovered outside the platform)."""

    EVENT_TYPE = "aid.claim-clawed-back"

    claim_id: UUID
    member_id: UUID
    amount: Yuan


class IllnessCondolencePaid(EventPayload):
    """Condolence money (慰问) for a member's serious illness, once per illness episode."""

    EVENT_TYPE = "aid.illness-condolence-paid"

    claim_id: UUID
    member_id: UUID
    amount: Yuan
    fund_id: str
    policy_year: int


class ReliefCaseOpened(EventPayload):
    """A member's own costs in the policy year, after the payouts, passed the hardship line: the
    member's district union decides on relief (救助)."""

    EVENT_TYPE = "aid.relief-case-opened"

    relief_id: UUID
    member_id: UUID
    union_id: str
    district_code: RegionCode
    policy_year: int
    out_of_pocket_after_payouts: Yuan
    linked_injury_cases: list[UUID] = Field(
        default_factory=list, description="The member's work-injury cases of the past year"
    )
