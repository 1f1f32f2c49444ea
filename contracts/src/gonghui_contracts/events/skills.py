"""Skills: free courses (night schools, workers' palaces) and their scarce seats.

A session's seats are held first (a member confirms within the hold), then confirmed; a sold-out
session keeps a waitlist, whose members are offered a freed seat in order and take it or let the
offer lapse. Events are keyed by `session_id` so one session's story stays in order.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from gonghui_contracts.envelope import STRICT, EventPayload, RejectionReason, SenderFields
from gonghui_contracts.values import Identifier, RegionCode, Yuan

Allocation = Literal["first_come", "lottery"]
ReleaseReason = Literal["cancelled_by_member", "member_left", "session_cancelled"]


class CoursePublished(EventPayload):
    """A provider (a union's school, a workers' palace) published a course and its sessions."""

    EVENT_TYPE = "skills.course-published"

    course_id: UUID
    provider: str = Field(max_length=100)
    title: str = Field(max_length=100)
    region_code: RegionCode
    sessions: int = Field(ge=1)
    seats: int = Field(ge=0, description="All sessions' capacity together")


class SeatRequested(EventPayload):
    """A member asks for a seat through a partner's app that signed them in (深i工, 粤工惠): the
    app gateway publishes it on its own topic, keyed by `session_id`, so that one session's
    requests are answered in the order they came. A retry carries the same `request_ref` and
    is answered the same."""

    model_config = STRICT
    EVENT_TYPE = "skills.seat-requested"
    SENDER_FIELDS: ClassVar[SenderFields] = {"gateway_id": "partner_id"}

    request_ref: Annotated[str, Identifier(64, description="The app's id of the request")]
    gateway_id: Annotated[
        str,
        Field(
            min_length=1,
            max_length=40,
            pattern=r"^[a-z0-9-]+$",
            description="The gateway whose topic carries it (another id is rejected)",
        ),
    ]
    member_id: UUID
    session_id: UUID


class SeatRequestOutcome(EventPayload):
    """The answer to a seat request, on the gateway's own outcome topic."""

    EVENT_TYPE = "skills.seat-request-outcome"

    request_ref: str
    gateway_id: str | None = None
    outcome: Literal[
        "held", "confirmed", "waitlisted", "offered", "entered", "sold_out", "rejected"
    ]
    seat_id: UUID | None = None
    due_at: datetime | None = Field(default=None, description="Confirm before this")
    position: int | None = Field(default=None, description="Place on the waitlist")
    reasons: list[RejectionReason] = Field(default_factory=list)


class SeatHeld(EventPayload):
    """A member holds a seat: it is theirs if they confirm before `hold_until`."""

    EVENT_TYPE = "skills.seat-held"

    seat_id: UUID
    session_id: UUID
    course_id: UUID
    member_id: UUID
    hold_until: datetime


class SeatConfirmed(EventPayload):
    """A seat is the member's: from their own hold, a waitlist offer or a lottery draw."""

    EVENT_TYPE = "skills.seat-confirmed"

    seat_id: UUID
    session_id: UUID
    course_id: UUID
    member_id: UUID
    course_title: str = Field(max_length=100)
    campus: str = Field(max_length=100)
    starts_at: datetime
    via: Literal["hold", "offer"]


class SeatReleased(EventPayload):
    """A held, offered or confirmed seat, or a place on the waitlist, was given up: by the
    member, because they left the union, or because the session was cancelled."""

    EVENT_TYPE = "skills.seat-released"

    seat_id: UUID
    session_id: UUID
    member_id: UUID
    was: Literal["held", "offered", "confirmed", "waiting", "entered"]
    reason: ReleaseReason
    course_title: str = Field(max_length=100)
    starts_at: datetime


class HoldExpired(EventPayload):
    """A hold ran out unconfirmed: its seat went to the waitlist or back on sale."""

    EVENT_TYPE = "skills.hold-expired"

    seat_id: UUID
    session_id: UUID
    member_id: UUID


class SessionSoldOut(EventPayload):
    """Every seat of a session is held, offered or confirmed (told once, when it first fills)."""

    EVENT_TYPE = "skills.session-sold-out"

    session_id: UUID
    course_id: UUID
    course_title: str = Field(max_length=100)
    region_code: RegionCode
    capacity: int
    opened_at: datetime
    sold_out_at: datetime


class WaitlistJoined(EventPayload):
    EVENT_TYPE = "skills.waitlist-joined"

    seat_id: UUID = Field(description="The place on the waitlist; it becomes the seat if taken")
    session_id: UUID
    member_id: UUID
    position: int = Field(ge=1, description="Order of joining: lower positions are offered first")


class WaitlistOffered(EventPayload):
    """A freed seat (or a lottery draw) is offered to a member: confirm before `offer_until`."""

    EVENT_TYPE = "skills.waitlist-offered"

    seat_id: UUID
    session_id: UUID
    member_id: UUID
    offer_until: datetime
    course_title: str = Field(max_length=100)
    campus: str = Field(max_length=100)
    starts_at: datetime


class OfferLapsed(EventPayload):
    """An offer ran out untaken: the seat passed to the next on the waitlist, or back on sale."""

    EVENT_TYPE = "skills.offer-lapsed"

    seat_id: UUID
    session_id: UUID
    member_id: UUID
    course_title: str = Field(max_length=100)


class LotteryDrawn(EventPayload):
    """A lottery session's seats were drawn once its entries closed. With the seed and the
    entries (their member ids in order) anyone can draw again and get the same result."""

    EVENT_TYPE = "skills.lottery-drawn"

    session_id: UUID
    seed: int = Field(ge=0)
    entries: int = Field(ge=0)
    won: int = Field(ge=0, description="Offered a seat (each hears of it by WaitlistOffered)")
    waitlisted: int = Field(ge=0)


class SessionCancelled(EventPayload):
    """The provider cancelled a session: every seat and waitlist place is released (each member
    hears of it by their SeatReleased)."""

    EVENT_TYPE = "skills.session-cancelled"

    session_id: UUID
    course_id: UUID
    reason: str = Field(max_length=200)
    released: int = Field(ge=0)


class AttendanceRecorded(EventPayload):
    EVENT_TYPE = "skills.attendance-recorded"

    seat_id: UUID
    session_id: UUID
    member_id: UUID
    attended: bool


# Degree aid (求学圆梦): a cycle's budget pays a fixed grant to the best-ranked applicants ------


class DegreeAidScreened(EventPayload):
    """An application passed or failed the union's screening (初审)."""

    EVENT_TYPE = "skills.degree-aid-screened"

    application_id: UUID
    cycle_id: UUID
    member_id: UUID
    passed: bool
    reason: str | None = Field(default=None, max_length=200)


class DegreeAidRanked(EventPayload):
    """The cycle's ranking is frozen: who passed, in order; grants go to the top."""

    EVENT_TYPE = "skills.degree-aid-ranked"

    cycle_id: UUID
    cycle_name: str = Field(max_length=100)
    ranked: int = Field(ge=0)
    grants: int = Field(ge=0, description="min(cap, budget // amount)")


class DegreeAidGranted(EventPayload):
    """A grant to the applicant ranked `rank`: first from the ranking, or passed down to them
    when someone above declined."""

    EVENT_TYPE = "skills.degree-aid-granted"

    application_id: UUID
    cycle_id: UUID
    cycle_name: str = Field(max_length=100)
    member_id: UUID
    rank: int = Field(ge=1)
    amount: Yuan
    passed_down: bool = False


class DegreeAidDeclined(EventPayload):
    EVENT_TYPE = "skills.degree-aid-declined"

    application_id: UUID
    cycle_id: UUID
    member_id: UUID
    rank: int = Field(ge=1)


class DegreeAidPaid(EventPayload):
    EVENT_TYPE = "skills.degree-aid-paid"

    application_id: UUID
    cycle_id: UUID
    member_id: UUID
    amount: Yuan


# The craftsman ladder (登攀计划): nominations, candidates under yearly quotas, titles -----

LadderTier = Literal["enterprise", "district", "industry", "city", "province", "national"]


class CraftsmanNominated(EventPayload):
    """A worker put forward for a tier of the ladder: by a union, or from a competition."""

    EVENT_TYPE = "skills.craftsman-nominated"

    nomination_id: UUID
    member_id: UUID
    tier: LadderTier
    year: int
    region_code: RegionCode
    source: Literal["union", "competition"]
    source_ref: str | None = Field(default=None, max_length=64)


class CandidateSelected(EventPayload):
    """A nominee selected as a candidate (培育对象) of the tier, within the year's quota."""

    EVENT_TYPE = "skills.candidate-selected"

    nomination_id: UUID
    member_id: UUID
    tier: LadderTier
    year: int
    region_code: RegionCode


class LadderQuotaExhausted(EventPayload):
    """The last place of a tier's yearly quota was taken (told once)."""

    EVENT_TYPE = "skills.ladder-quota-exhausted"

    region_code: RegionCode
    tier: LadderTier
    year: int
    quota: int


class CraftsmanTitleRecorded(EventPayload):
    """A title of the ladder: from a candidate's selection, or decided elsewhere (the province's
    南粤工匠, the national 大国工匠) and recorded here."""

    EVENT_TYPE = "skills.craftsman-title-recorded"

    title_id: UUID
    member_id: UUID
    tier: LadderTier
    year: int
    source: Literal["selection", "decided_elsewhere"]
    reference: str = Field(max_length=64)


class CraftsmanTitleRevoked(EventPayload):
    EVENT_TYPE = "skills.craftsman-title-revoked"

    title_id: UUID
    member_id: UUID
    tier: LadderTier
    reason: str = Field(max_length=200)


# Competitions (羊城工匠杯, 五小, 职业健康): stages judged by a panel, results frozen ----------

Medal = Literal["gold", "silver", "bronze"]


class CompetitionPublished(EventPayload):
    EVENT_TYPE = "skills.competition-published"

    competition_id: UUID
    title: str = Field(max_length=100)
    region_code: RegionCode
    stages: int = Field(ge=1)
    judges: int = Field(ge=1)


class EntrantRegistered(EventPayload):
    EVENT_TYPE = "skills.entrant-registered"

    entrant_id: UUID
    competition_id: UUID
    kind: Literal["worker", "team", "firm"]
    name: str = Field(max_length=100)
    members: list[UUID] = Field(default_factory=list, max_length=20)


class Placing(BaseModel):
    """One entrant's place in a stage's results."""

    entrant_id: UUID
    rank: int = Field(ge=1)
    score: Decimal = Field(ge=0, le=100, decimal_places=2)


class StageResultsPublished(EventPayload):
    """A stage's results, computed once from its frozen score sheets; a later version (after a
    re-scoring) supersedes the earlier."""

    EVENT_TYPE = "skills.stage-results-published"

    competition_id: UUID
    stage: int = Field(ge=1)
    version: int = Field(ge=1)
    supersedes: int | None = None
    standings: list[Placing] = Field(max_length=1000)
    advanced: list[UUID] = Field(default_factory=list, description="Into the next stage")


class MedalAwarded(EventPayload):
    EVENT_TYPE = "skills.medal-awarded"

    competition_id: UUID
    title: str = Field(max_length=100)
    entrant_id: UUID
    entrant_name: str = Field(max_length=100)
    medal: Medal
    version: int = Field(ge=1)
    members: list[UUID] = Field(default_factory=list, max_length=20)


class AwardRecommended(EventPayload):
    """The winner is put forward for the May-Day award (五一劳动奖章) of the organising union."""

    EVENT_TYPE = "skills.award-recommended"

    competition_id: UUID
    title: str = Field(max_length=100)
    entrant_id: UUID
    entrant_name: str = Field(max_length=100)
    region_code: RegionCode
    award: str = Field(max_length=50)
    version: int = Field(ge=1)
