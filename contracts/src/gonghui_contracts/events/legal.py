"""Labour disputes and legal aid (商调裁诉援执): filings, the union lawyer, the case chain, early
warning and labour-law supervision letters (一函两书).

Partners — the 12351 hotline, courts (诉调对接) and arbitration commissions — publish filings to
`partner.legal.filings.v1` and read what became of them on `partner.legal.filing-outcomes.v1`:
opened (or merged into the open case of the same dispute) or rejected with reasons, answered when
a union lawyer has taken the case up (a hotline work order closes then), and concluded.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, Field, field_validator

from gonghui_contracts.envelope import STRICT, EventPayload, RejectionReason, SenderFields
from gonghui_contracts.events.injury import Employer, Reference
from gonghui_contracts.values import (
    CaseOutcome,
    CaseStage,
    DisputeKind,
    EmployerResponse,
    FilingChannel,
    Industry,
    LetterKind,
    Line,
    MobilePhone,
    PriorityGroup,
    RegionCode,
    ResidentId,
    Yuan,
)
from gonghui_contracts.values.money import LARGEST_AMOUNT

PartnerChannel = Literal[
    FilingChannel.HOTLINE_12351, FilingChannel.COURT, FilingChannel.ARBITRATION
]
GROUP_DISPUTE_WORKERS = 10
"""Ten or more workers with a common claim make a collective dispute (劳动争议调解仲裁法 第7条)."""


class Claimant(BaseModel):
    """A worker in the dispute. Personal data: encrypted at rest, never in logs, spans, metrics."""

    model_config = STRICT
    name: Annotated[str, Line(50)]
    resident_id: ResidentId
    phone: MobilePhone
    claimed: Yuan = Field(description="What this worker claims, in yuan")
    groups: list[PriorityGroup] = Field(
        default_factory=list,
        max_length=len(PriorityGroup),
        description="Priority groups the channel knows of (migrant, hardship…); women and "
        "new-employment-form workers are also recognised from the ID and the industry",
    )


class DisputeDetails(BaseModel):
    """What every filing says, whichever channel it comes through."""

    model_config = STRICT
    employer: Employer
    industry: Industry
    district_code: RegionCode = Field(description="Where the work is: that district's union acts")
    kind: DisputeKind
    arose_on: date = Field(
        description="When the worker knew of the infringement: the one-year limitation for "
        "applying to arbitration runs from it"
    )
    workers: list[Claimant] = Field(min_length=1, max_length=2000)

    @field_validator("workers")
    @classmethod
    def _each_worker_once(cls, workers: list[Claimant]) -> list[Claimant]:
        ids = [worker.resident_id for worker in workers]
        if len(set(ids)) != len(ids):
            raise ValueError("the same resident ID appears twice among the workers")
        if sum(worker.claimed for worker in workers) > LARGEST_AMOUNT:
            raise ValueError(f"the claims add up to more than {LARGEST_AMOUNT} yuan")
        return workers


class DisputeFiled(EventPayload, DisputeDetails):
    """A dispute brought to the union by a partner: a 12351 work order, or a court's or an
    arbitration commission's referral, on the partner's own topic,
    `partner.legal.filings.v1.<partner id>`. `channel` is the partner's kind; `filing_ref` is
    its own reference: a repeat is one filing."""

    model_config = STRICT
    EVENT_TYPE = "legal.dispute-filed"
    SENDER_FIELDS: ClassVar[SenderFields] = {"channel": "kind"}

    channel: PartnerChannel
    filing_ref: str = Reference


class FilingOutcome(EventPayload):
    """What became of a filing, on the partners' reply topic (each reads its `channel`)."""

    EVENT_TYPE = "legal.filing-outcome"

    channel: FilingChannel | None = Field(description="None if the filing's could not be read")
    filing_ref: str
    outcome: Literal["opened", "merged", "rejected", "answered", "concluded"]
    case_id: UUID | None = None
    reasons: list[RejectionReason] = Field(default_factory=list)
    lawyer_id: str | None = Field(default=None, description="answered: the lawyer on the case")
    station_id: str | None = None
    work_order_closed: bool = Field(
        default=False, description="A 12351 work order is closed once the worker has an answer"
    )
    case_outcome: CaseOutcome | None = None
    amount: Yuan | None = None


class LegalCaseOpened(EventPayload):
    EVENT_TYPE = "legal.case-opened"

    case_id: UUID
    channel: FilingChannel
    filing_ref: str = Field(
        description="The first filing's reference in its channel (an injury referral's id)"
    )
    district_code: RegionCode
    union_id: str = Field(description="The district union (属地工会)")
    kind: DisputeKind
    industry: Industry
    employer_code: str
    workers: int = Field(ge=1)
    claimed: Yuan
    priority_groups: list[PriorityGroup]
    group_dispute: bool = Field(description=f"{GROUP_DISPUTE_WORKERS} or more workers")
    stage: CaseStage
    stage_due_at: datetime
    limitation_ends_on: date = Field(description="Last day to apply for arbitration")
    opened_at: datetime


class LawyerAssigned(EventPayload):
    """A union lawyer is asked to take the case; they accept by `accept_by` or it goes on."""

    EVENT_TYPE = "legal.lawyer-assigned"

    case_id: UUID
    lawyer_id: str
    lawyer_name: str = Field(description="Staff name, for the worker's notice")
    station_id: str
    station_name: str
    attempt: int = Field(ge=1)
    replaces_lawyer_id: str | None = None
    accept_by: datetime


class LawyerAccepted(EventPayload):
    EVENT_TYPE = "legal.lawyer-accepted"

    case_id: UUID
    lawyer_id: str
    station_id: str
    accepted_at: datetime


class CaseUnassigned(EventPayload):
    """No lawyer of the district can take the case: the district union must act. Said once; the
    case is offered again as soon as a lawyer is free."""

    EVENT_TYPE = "legal.case-unassigned"

    case_id: UUID
    union_id: str
    district_code: RegionCode
    kind: DisputeKind
    priority: bool


class StageChanged(EventPayload):
    """The case moved along the chain: who moved it, why, and the new stage's deadline."""

    EVENT_TYPE = "legal.stage-changed"

    case_id: UUID
    from_stage: CaseStage
    to_stage: CaseStage
    skipped: list[CaseStage] = Field(default_factory=list)
    by: str
    reason: str
    due_at: datetime


class StageExtended(EventPayload):
    """The stage's deadline was extended (an arbitration award: once, by 15 days)."""

    EVENT_TYPE = "legal.stage-extended"

    case_id: UUID
    stage: CaseStage
    due_at: datetime
    by: str
    reason: str


class SettlementConfirmed(EventPayload):
    """A court confirmed the mediated agreement (司法确认): if the employer does not pay, the
    case may go straight to enforcement."""

    EVENT_TYPE = "legal.settlement-confirmed"

    case_id: UUID
    by: str
    reason: str
    confirmed_at: datetime


Deadline = Literal["stage", "limitation"]


class DeadlineNear(EventPayload):
    """A reminder to the lawyer: the stage's deadline, or the limitation, is near."""

    EVENT_TYPE = "legal.deadline-near"

    case_id: UUID
    deadline: Deadline
    stage: CaseStage
    lawyer_id: str
    due_at: datetime


class DeadlineMissed(EventPayload):
    """A deadline ran out with the case still at `stage`: escalated to the district union."""

    EVENT_TYPE = "legal.deadline-missed"

    case_id: UUID
    deadline: Deadline
    stage: CaseStage
    union_id: str
    district_code: RegionCode
    lawyer_id: str | None
    due_at: datetime


class LegalCaseClosed(EventPayload):
    EVENT_TYPE = "legal.case-closed"

    case_id: UUID
    stage: CaseStage
    outcome: CaseOutcome
    amount: Yuan | None = Field(description="Settled, awarded, judged or enforced, in yuan")
    workers: int
    workers_accepting: int | None = Field(
        default=None, description="A group settlement: how many workers accepted it"
    )
    by: str
    reason: str
    union_id: str
    district_code: RegionCode
    closed_at: datetime


WarningKind = Literal["employer_filings", "employer_workers", "arrears_hotspot"]


class EarlyWarningRaised(EventPayload):
    """Many filings or workers against one employer, or a wage-arrears hot spot, within a window
    (早发现、早报告): raised once per window for the district union."""

    EVENT_TYPE = "legal.early-warning-raised"

    warning_id: UUID
    kind: WarningKind
    union_id: str
    district_code: RegionCode
    employer_code: str | None = None
    employer_name: str | None = None
    industry: Industry | None = None
    count: int = Field(description="Filings, or workers, in the window")
    threshold: int
    window_days: int
    raised_at: datetime


class SupervisionLetterIssued(EventPayload):
    """一函两书: a prompt letter, then an opinion letter, then a suggestion letter to the
    authorities, for an employer with repeated cases."""

    EVENT_TYPE = "legal.supervision-letter-issued"

    letter_id: UUID
    letter: LetterKind
    employer_code: str
    employer_name: str
    union_id: str
    district_code: RegionCode
    cases: int = Field(description="The employer's cases the letter is about")
    respond_by: date


class EmployerResponded(EventPayload):
    EVENT_TYPE = "legal.employer-responded"

    letter_id: UUID
    letter: LetterKind
    employer_code: str
    response: EmployerResponse
    recorded_by: str
