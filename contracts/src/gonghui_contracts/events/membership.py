"""Membership: join requests from partners and the app, outcomes, and member lifecycle events."""

from __future__ import annotations

from datetime import date
from typing import Annotated, ClassVar, Literal
from uuid import UUID

from pydantic import Field

from gonghui_contracts.envelope import STRICT, EventPayload, RejectionReason, SenderFields
from gonghui_contracts.values import (
    Industry,
    JoinChannel,
    Line,
    MobilePhone,
    RegionCode,
    ResidentId,
)


class JoinRequested(EventPayload):
    """A worker asks to join, submitted by a partner (one event per worker) or the app.

    Published by each partner to its own topic, `partner.membership.join-requests.v1.<partner
    id>`, keyed by `request_ref`; `partner_id` is that partner's.
    """

    model_config = STRICT
    EVENT_TYPE = "membership.join-requested"
    SENDER_FIELDS: ClassVar[SenderFields] = {"partner_id": "partner_id"}

    request_ref: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="The submitter's own reference for this request, echoed in the outcome",
    )
    partner_id: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[a-z0-9-]+$",
        description="Registered id of the submitting partner, e.g. sf-express-guangzhou: the "
        "partner whose topic carries the request (another partner's id is rejected)",
    )
    channel: JoinChannel
    name: Annotated[str, Line(50)] = Field(description="Legal name. Personal data.")
    resident_id: ResidentId
    phone: MobilePhone
    region_code: RegionCode = Field(
        description="County where the worker works (the QR code's county)"
    )
    industry: Industry
    employer: Annotated[str, Line(100)] | None = None
    platform: Annotated[str, Line(60)] | None = Field(
        default=None, description="Platform worked for, if any"
    )


class JoinOutcome(EventPayload):
    """The answer to one join request, on the submitter's reply topic."""

    EVENT_TYPE = "membership.join-outcome"

    request_ref: str
    partner_id: str
    outcome: Literal["joined", "already_member", "rejected"]
    member_id: UUID | None = None
    union_id: str | None = None
    reasons: list[RejectionReason] = Field(default_factory=list)


class MemberJoined(EventPayload):
    EVENT_TYPE = "membership.member-joined"

    member_id: UUID
    union_id: str
    union_name: str | None = Field(
        default=None, description="For notices; union_id is the reference"
    )
    region_code: RegionCode
    city_code: RegionCode
    industry: Industry
    new_employment_form: bool
    channel: JoinChannel
    joined_on: date
    partner_id: str | None = None


class MemberIdentified(EventPayload):
    """Who a member is, for a service that must recognise members in partners' records (aid
    matches the medical-insurance bureau's settlements). Personal data: carried only by
    membership.identities.v1, which only those services read."""

    EVENT_TYPE = "membership.member-identified"

    member_id: UUID
    resident_id: ResidentId
    union_id: str
    region_code: RegionCode
    city_code: RegionCode


class MemberTransferred(EventPayload):
    EVENT_TYPE = "membership.member-transferred"

    member_id: UUID
    from_union_id: str
    to_union_id: str
    reason: str = Field(max_length=200)
    transferred_on: date


class MemberLeft(EventPayload):
    EVENT_TYPE = "membership.member-left"

    member_id: UUID
    union_id: str
    reason: str = Field(max_length=200)
    left_on: date
