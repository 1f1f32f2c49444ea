"""Work injuries (工伤探视, "逢伤必探"): reports from hospitals and workers, the visit, condolence
money, follow-ups after discharge, and referral to legal aid.

Partners (designated work-injury hospitals) publish reports and discharges to their own topic,
`partner.aid.injury-reports.v1.<hospital id>`, and read outcomes from theirs,
`partner.aid.injury-outcomes.v1.<hospital id>`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, ClassVar, Literal
from uuid import UUID

from pydantic import BaseModel, Field

from gonghui_contracts.envelope import STRICT, TOLERANT, EventPayload, RejectionReason, SenderFields
from gonghui_contracts.values import (
    Admission,
    CompensationProblem,
    CreditCode,
    Industry,
    InjuryKind,
    Line,
    MobilePhone,
    RegionCode,
    ResidentId,
    Severity,
    Yuan,
)

Reference = Field(
    min_length=1,
    max_length=64,
    pattern=r"^[A-Za-z0-9._:-]+$",
    description="The reporter's own reference, echoed in the outcome; a repeat is one report",
)
HospitalId = Field(
    min_length=1,
    max_length=32,
    pattern=r"^[a-z0-9-]+$",
    description="Registry id of a designated work-injury hospital, e.g. sz-h-001: from a "
    "hospital, its own (the hospital whose topic carries it; another id is rejected)",
)
VisitNeed = Literal["hardship", "legal_help"]


class InjuredWorker(BaseModel):
    """Who was hurt. Personal data: encrypted at rest, never in logs, spans or metrics."""

    model_config = STRICT
    name: Annotated[str, Line(50)]
    resident_id: ResidentId
    phone: MobilePhone


class Employer(BaseModel):
    model_config = STRICT
    credit_code: CreditCode
    name: Annotated[str, Line(100)]


class InjuryReported(EventPayload):
    """An injury reported by the hospital treating it, or by the worker (one-click in the app).

    The same injury reported by both is one case: same worker, same day of injury.
    """

    model_config = STRICT
    EVENT_TYPE = "aid.injury-reported"
    SENDER_FIELDS: ClassVar[SenderFields] = {"hospital_id": "partner_id"}

    report_ref: str = Reference
    reporter: Literal["hospital", "worker"]
    hospital_id: str = HospitalId
    worker: InjuredWorker
    employer: Employer
    industry: Industry
    injured_on: date
    injury_kind: InjuryKind
    severity: Severity
    admission: Admission


class PatientDischarged(EventPayload):
    """The hospital discharged the worker of one of its reports."""

    model_config = STRICT
    EVENT_TYPE = "aid.patient-discharged"
    SENDER_FIELDS: ClassVar[SenderFields] = {"hospital_id": "partner_id"}

    report_ref: str = Reference
    hospital_id: str = HospitalId
    discharged_on: date


class InjuryReportOutcome(EventPayload):
    """The answer to a report or a discharge, on the reporter's reply topic."""

    EVENT_TYPE = "aid.injury-report-outcome"

    report_ref: str
    hospital_id: str | None = None
    outcome: Literal["opened", "merged", "discharge_recorded", "rejected"]
    case_id: UUID | None = None
    reasons: list[RejectionReason] = Field(default_factory=list)


class InjuryCaseOpened(EventPayload):
    EVENT_TYPE = "aid.injury-case-opened"

    case_id: UUID
    hospital_id: str
    district_code: RegionCode = Field(description="The hospital's district: its union handles it")
    union_id: str = Field(description="The district union (属地工会)")
    industry: Industry
    employer_code: CreditCode
    injury_kind: InjuryKind
    severity: Severity
    admission: Admission
    injured_on: date
    reported_at: datetime
    visit_due_at: datetime = Field(description="The visit is late after this")


class VisitorAssigned(EventPayload):
    """A visitor is asked to visit; they accept by `accept_by` or the case goes to another."""

    EVENT_TYPE = "aid.visitor-assigned"

    case_id: UUID
    visitor_id: str
    visitor_name: str = Field(description="Staff name, for the worker's notice")
    hospital_id: str
    hospital_name: str
    attempt: int = Field(ge=1, description="1 for the first visitor asked")
    replaces_visitor_id: str | None = None
    accept_by: datetime
    visit_due_at: datetime


class VisitUnassigned(EventPayload):
    """No visitor could be asked (none on duty): the district union must act."""

    EVENT_TYPE = "aid.visit-unassigned"

    case_id: UUID
    union_id: str
    district_code: RegionCode
    visit_due_at: datetime


class VisitDueSoon(EventPayload):
    EVENT_TYPE = "aid.visit-due-soon"

    case_id: UUID
    visitor_id: str
    visit_due_at: datetime


class VisitOverdue(EventPayload):
    """The visit did not happen in time: escalated to the district union."""

    EVENT_TYPE = "aid.visit-overdue"

    case_id: UUID
    union_id: str
    district_code: RegionCode
    visitor_id: str | None
    visit_due_at: datetime


class VisitRecorded(EventPayload):
    EVENT_TYPE = "aid.visit-recorded"

    case_id: UUID
    visitor_id: str
    visited_at: datetime
    within_sla: bool
    needs: list[VisitNeed] = Field(default_factory=list)
    compensation_problem: CompensationProblem | None = None


class CondolencePaid(EventPayload):
    """Condolence money (慰问金) for a case, paid once from the condolence fund."""

    EVENT_TYPE = "aid.condolence-paid"

    case_id: UUID
    amount: Yuan
    fund_id: str
    severity: Severity
    admission: Admission


class CondolenceFundExhausted(EventPayload):
    """The condolence fund cannot pay the next case; said once per fund."""

    EVENT_TYPE = "aid.condolence-fund-exhausted"

    fund_id: str
    budget: Yuan
    balance: Yuan
    payments: int
    first_unpaid_case_id: UUID


class FollowUpsScheduled(EventPayload):
    """Discharged: the union will call on these days (定期回访)."""

    EVENT_TYPE = "aid.follow-ups-scheduled"

    case_id: UUID
    discharged_on: date
    recorded_by: Literal["hospital", "visitor"]
    due_dates: list[date]


class FollowUpDue(EventPayload):
    EVENT_TYPE = "aid.follow-up-due"

    case_id: UUID
    sequence: int = Field(ge=1)
    due_on: date
    visitor_id: str | None


class FollowUpRecorded(EventPayload):
    EVENT_TYPE = "aid.follow-up-recorded"

    case_id: UUID
    sequence: int = Field(ge=1)
    outcome: Literal["done", "missed"]
    compensation_problem: CompensationProblem | None = None


class FollowUpEscalated(EventPayload):
    """A follow-up nobody recorded in time: the district union must act."""

    EVENT_TYPE = "aid.follow-up-escalated"

    case_id: UUID
    sequence: int = Field(ge=1)
    due_on: date
    union_id: str


class CaseReferredToLegal(EventPayload):
    """The case's worker was referred to legal aid (what `LegalReferralRaised` carries to the
    legal service, without the worker's identity: for those who only need to know)."""

    EVENT_TYPE = "aid.case-referred-to-legal"

    case_id: UUID
    referral_id: UUID
    problem: CompensationProblem
    raised_by: Literal["visit", "follow_up"]


class LegalReferralRaised(EventPayload):
    """An injured worker needs legal help to be compensated: the legal service opens a dispute.

    Carries the worker's identity (personal data) because the filing needs it.
    """

    model_config = TOLERANT
    EVENT_TYPE = "aid.legal-referral-raised"

    referral_id: UUID
    case_id: UUID
    worker: InjuredWorker
    employer: Employer
    industry: Industry
    district_code: RegionCode
    injured_on: date
    injury_kind: InjuryKind
    severity: Severity
    problem: CompensationProblem
    raised_by: Literal["visit", "follow_up"]
    visitor_id: str | None
