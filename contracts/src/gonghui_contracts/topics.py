"""The topic registry: every Kafka topic of the platform, what it carries and who may write it.

The local stack and the Kubernetes manifests create topics from this list; brokers never
auto-create them. Each topic has a dead-letter twin, `<name>.dlq`, for what its consumers
could not process.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Literal

from gonghui_contracts.envelope import EventPayload
from gonghui_contracts.events import (
    AttendanceRecorded,
    AwardRecommended,
    CandidateSelected,
    CaseReferredToLegal,
    CaseUnassigned,
    ClaimClawedBack,
    ClaimDecided,
    ClaimPaid,
    ClaimPaymentFailed,
    CompetitionPublished,
    CondolenceFundExhausted,
    CondolencePaid,
    CoursePublished,
    CoverageEnded,
    CraftsmanNominated,
    CraftsmanTitleRecorded,
    CraftsmanTitleRevoked,
    DeadlineMissed,
    DeadlineNear,
    DegreeAidDeclined,
    DegreeAidGranted,
    DegreeAidPaid,
    DegreeAidRanked,
    DegreeAidScreened,
    DisputeFiled,
    EarlyWarningRaised,
    EmployerResponded,
    EntrantRegistered,
    FilingOutcome,
    FollowUpDue,
    FollowUpEscalated,
    FollowUpRecorded,
    FollowUpsScheduled,
    GiftFundExhausted,
    HoldExpired,
    IllnessCondolencePaid,
    InjuryCaseOpened,
    InjuryReported,
    InjuryReportOutcome,
    InsuranceEnrolled,
    JoinOutcome,
    JoinRequested,
    LadderQuotaExhausted,
    LawyerAccepted,
    LawyerAssigned,
    LegalCaseClosed,
    LegalCaseOpened,
    LegalReferralRaised,
    LotteryDrawn,
    MedalAwarded,
    MemberIdentified,
    MemberJoined,
    MemberLeft,
    MemberTransferred,
    NoticeFailed,
    NoticeSent,
    OfferLapsed,
    PatientDischarged,
    ReliefCaseOpened,
    SeatConfirmed,
    SeatHeld,
    SeatReleased,
    SeatRequested,
    SeatRequestOutcome,
    SelfPaidOffered,
    SessionCancelled,
    SessionSoldOut,
    SettlementConfirmed,
    SettlementOutcome,
    SettlementRecorded,
    SettlementReversed,
    StageChanged,
    StageExtended,
    StageResultsPublished,
    SupervisionLetterIssued,
    VisitDueSoon,
    VisitorAssigned,
    VisitOverdue,
    VisitRecorded,
    VisitUnassigned,
    WaitlistJoined,
    WaitlistOffered,
)
from gonghui_contracts.values import PartnerKind, Service

Producer = PartnerKind | Service
DLQ_SUFFIX = ".dlq"
DLQ_RETENTION = timedelta(days=30)


@dataclass(frozen=True)
class TopicSpec:
    name: str
    description: str
    carries: tuple[type[EventPayload], ...]
    key: str
    partitions: int
    retention: timedelta
    producers: frozenset[Producer]
    readers: frozenset[Producer] = frozenset()
    cleanup_policy: Literal["delete", "compact"] = "delete"
    personal_data: bool = False

    @property
    def dlq(self) -> str:
        return self.name + DLQ_SUFFIX

    @property
    def dlq_retention(self) -> timedelta:
        """Dead letters are the original records: those of a topic with personal data are kept
        no longer than the topic keeps them."""
        return min(DLQ_RETENTION, self.retention) if self.personal_data else DLQ_RETENTION

    @property
    def partner_facing(self) -> bool:
        return any(isinstance(p, PartnerKind) for p in self.producers)

    def kafka_config(self) -> dict[str, str]:
        return {
            "cleanup.policy": self.cleanup_policy,
            "retention.ms": str(int(self.retention.total_seconds() * 1000)),
        }

    def dlq_config(self) -> dict[str, str]:
        return {
            "cleanup.policy": "delete",
            "retention.ms": str(int(self.dlq_retention.total_seconds() * 1000)),
        }


MEMBERSHIP_JOIN_REQUESTS = TopicSpec(
    name="partner.membership.join-requests.v1",
    description="Join requests from partner unions and federations, one event per worker.",
    carries=(JoinRequested,),
    key="request_ref",
    partitions=6,
    retention=timedelta(days=7),
    producers=frozenset({PartnerKind.PLATFORM_UNION, PartnerKind.INDUSTRY_FEDERATION}),
    readers=frozenset({Service.MEMBERSHIP}),
    personal_data=True,
)

MEMBERSHIP_JOIN_OUTCOMES = TopicSpec(
    name="partner.membership.join-outcomes.v1",
    description="The outcome of every join request: joined, already a member, or rejected.",
    carries=(JoinOutcome,),
    key="request_ref",
    partitions=6,
    retention=timedelta(days=14),
    producers=frozenset({Service.MEMBERSHIP}),
    readers=frozenset({PartnerKind.PLATFORM_UNION, PartnerKind.INDUSTRY_FEDERATION}),
)

MEMBERSHIP_EVENTS = TopicSpec(
    name="membership.events.v1",
    description="Member lifecycle: joined, transferred to another union, left.",
    carries=(MemberJoined, MemberTransferred, MemberLeft),
    key="member_id",
    partitions=6,
    retention=timedelta(days=30),
    producers=frozenset({Service.MEMBERSHIP}),
    readers=frozenset({Service.AID, Service.SKILLS, Service.NOTIFY}),
)

MEMBERSHIP_IDENTITIES = TopicSpec(
    name="membership.identities.v1",
    description="Who each new member is (resident ID, union, region), for the services that "
    "recognise members in partners' records. Carries personal data.",
    carries=(MemberIdentified,),
    key="member_id",
    partitions=6,
    retention=timedelta(days=30),
    producers=frozenset({Service.MEMBERSHIP}),
    readers=frozenset({Service.AID}),
    personal_data=True,
)

AID_EVENTS = TopicSpec(
    name="aid.events.v1",
    description="Insurance enrolments, self-paid offers, the gift fund, coverage ends.",
    carries=(InsuranceEnrolled, SelfPaidOffered, GiftFundExhausted, CoverageEnded),
    key="member_id (fund_id for fund events)",
    partitions=6,
    retention=timedelta(days=30),
    producers=frozenset({Service.AID}),
    readers=frozenset({Service.NOTIFY}),
)

AID_INJURY_REPORTS = TopicSpec(
    name="partner.aid.injury-reports.v1",
    description="Work-injury reports and discharges from designated work-injury hospitals.",
    carries=(InjuryReported, PatientDischarged),
    key="report_ref",
    # One a hospital: a hospital sends a few reports an hour, and its reports stay in order. The
    # hospitals' topics together are the partitions replicas of aid share; six apiece made every
    # fetch of aid's list 522 partitions, a fifth of its time at 500 joins a second.
    partitions=1,
    retention=timedelta(days=7),
    producers=frozenset({PartnerKind.HOSPITAL}),
    readers=frozenset({Service.AID}),
    personal_data=True,
)

AID_INJURY_OUTCOMES = TopicSpec(
    name="partner.aid.injury-outcomes.v1",
    description="The outcome of every injury report or discharge: case opened, merged into "
    "the case of the same injury, discharge recorded, or rejected with reasons.",
    carries=(InjuryReportOutcome,),
    key="report_ref",
    partitions=1,  # as the reports: one a hospital
    retention=timedelta(days=14),
    producers=frozenset({Service.AID}),
    readers=frozenset({PartnerKind.HOSPITAL}),
)

AID_SETTLEMENTS = TopicSpec(
    name="partner.aid.settlements.v1",
    description="Hospital settlements of the basic medical insurance, their corrections and "
    "reversals, from the medical-insurance bureau. Carries personal data.",
    carries=(SettlementRecorded, SettlementReversed),
    key="settlement_id",
    partitions=6,
    retention=timedelta(days=7),
    producers=frozenset({PartnerKind.MEDICAL_INSURANCE}),
    readers=frozenset({Service.AID}),
    personal_data=True,
)

AID_SETTLEMENT_OUTCOMES = TopicSpec(
    name="partner.aid.settlement-outcomes.v1",
    description="What became of each settlement revision: the claim approved (and what it "
    "pays), under review, superseded by a later revision, reversed, or rejected with reasons.",
    carries=(SettlementOutcome,),
    key="settlement_id",
    partitions=6,
    retention=timedelta(days=14),
    producers=frozenset({Service.AID}),
    readers=frozenset({PartnerKind.MEDICAL_INSURANCE}),
)

AID_CLAIMS = TopicSpec(
    name="aid.claims.v1",
    description="Mutual-aid claims: decided (automatically or by staff), paid, payment "
    "failed, clawed back; condolence for serious illness; hardship-relief cases opened.",
    carries=(
        ClaimDecided,
        ClaimPaid,
        ClaimPaymentFailed,
        ClaimClawedBack,
        IllnessCondolencePaid,
        ReliefCaseOpened,
    ),
    key="member_id (claim_id for a claim without a member)",
    partitions=6,
    retention=timedelta(days=30),
    producers=frozenset({Service.AID}),
    readers=frozenset({Service.NOTIFY}),
)

AID_INJURY_CASES = TopicSpec(
    name="aid.injury-cases.v1",
    description="Work-injury cases: opened, visitor assigned, visit due, overdue or "
    "recorded, condolence money, follow-ups after discharge, referral to legal aid (without "
    "the worker's identity, which only aid.legal-referrals.v1 carries).",
    carries=(
        InjuryCaseOpened,
        VisitorAssigned,
        VisitUnassigned,
        VisitDueSoon,
        VisitOverdue,
        VisitRecorded,
        CondolencePaid,
        CondolenceFundExhausted,
        FollowUpsScheduled,
        FollowUpDue,
        FollowUpRecorded,
        FollowUpEscalated,
        CaseReferredToLegal,
    ),
    key="case_id (fund_id for fund events)",
    partitions=6,
    retention=timedelta(days=30),
    producers=frozenset({Service.AID}),
    readers=frozenset({Service.NOTIFY}),
)

AID_LEGAL_REFERRALS = TopicSpec(
    name="aid.legal-referrals.v1",
    description="Injured workers who need legal help to be compensated; the legal service "
    "takes each up as a dispute filing. Carries personal data.",
    carries=(LegalReferralRaised,),
    key="case_id",
    partitions=3,
    retention=timedelta(days=30),
    producers=frozenset({Service.AID}),
    readers=frozenset({Service.LEGAL}),
    personal_data=True,
)

LEGAL_FILINGS = TopicSpec(
    name="partner.legal.filings.v1",
    description="Labour-dispute filings: 12351 hotline work orders, court-linked and "
    "arbitration referrals. Carries personal data.",
    carries=(DisputeFiled,),
    key="filing_ref",
    partitions=6,
    retention=timedelta(days=7),
    producers=frozenset({PartnerKind.HOTLINE_12351, PartnerKind.COURT, PartnerKind.ARBITRATION}),
    readers=frozenset({Service.LEGAL}),
    personal_data=True,
)

LEGAL_FILING_OUTCOMES = TopicSpec(
    name="partner.legal.filing-outcomes.v1",
    description="What became of each filing: opened, merged or rejected with reasons, "
    "answered by a union lawyer (a 12351 work order closes), concluded.",
    carries=(FilingOutcome,),
    key="filing_ref",
    partitions=6,
    retention=timedelta(days=30),
    producers=frozenset({Service.LEGAL}),
    readers=frozenset({PartnerKind.HOTLINE_12351, PartnerKind.COURT, PartnerKind.ARBITRATION}),
)

LEGAL_CASES = TopicSpec(
    name="legal.cases.v1",
    description="Dispute cases: opened, lawyer assigned or accepted, nobody free, stage "
    "moves and extensions along 商调裁诉援执, agreements judicially confirmed, deadlines near "
    "or missed, closed.",
    carries=(
        LegalCaseOpened,
        LawyerAssigned,
        LawyerAccepted,
        CaseUnassigned,
        StageChanged,
        StageExtended,
        SettlementConfirmed,
        DeadlineNear,
        DeadlineMissed,
        LegalCaseClosed,
    ),
    key="case_id",
    partitions=6,
    retention=timedelta(days=30),
    producers=frozenset({Service.LEGAL}),
    readers=frozenset({Service.NOTIFY}),
)

LEGAL_SUPERVISION = TopicSpec(
    name="legal.supervision.v1",
    description="Early warnings for district unions, and labour-law supervision letters "
    "(一函两书) with the employers' responses.",
    carries=(EarlyWarningRaised, SupervisionLetterIssued, EmployerResponded),
    key="employer_code (district_code:industry for hot spots)",
    partitions=3,
    retention=timedelta(days=90),
    producers=frozenset({Service.LEGAL}),
    readers=frozenset({Service.NOTIFY}),
)

SKILLS_SEAT_REQUESTS = TopicSpec(
    name="partner.skills.seat-requests.v1",
    description="Members' requests for course seats through a partner's app that signs "
    "them in, keyed by session so that one session's requests keep their order.",
    carries=(SeatRequested,),
    key="session_id",
    partitions=6,
    retention=timedelta(days=1),
    producers=frozenset({PartnerKind.APP_GATEWAY}),
    readers=frozenset({Service.SKILLS}),
)

SKILLS_SEAT_OUTCOMES = TopicSpec(
    name="partner.skills.seat-outcomes.v1",
    description="The answer to every seat request: held, waitlisted, sold out, entered in "
    "a draw, or rejected with reasons.",
    carries=(SeatRequestOutcome,),
    key="request_ref",
    partitions=6,
    retention=timedelta(days=1),
    producers=frozenset({Service.SKILLS}),
    readers=frozenset({PartnerKind.APP_GATEWAY}),
)

SKILLS_SEATS = TopicSpec(
    name="skills.seats.v1",
    description="Free courses and their scarce seats: courses published, seats held, "
    "confirmed, released, holds expired, sessions sold out or cancelled, waitlist places, "
    "offers and lapses, lottery draws, attendance.",
    carries=(
        CoursePublished,
        SeatHeld,
        SeatConfirmed,
        SeatReleased,
        HoldExpired,
        SessionSoldOut,
        WaitlistJoined,
        WaitlistOffered,
        OfferLapsed,
        LotteryDrawn,
        SessionCancelled,
        AttendanceRecorded,
    ),
    key="session_id (course_id for CoursePublished)",
    partitions=6,
    retention=timedelta(days=30),
    producers=frozenset({Service.SKILLS}),
    readers=frozenset({Service.NOTIFY}),
)

SKILLS_DEGREE_AID = TopicSpec(
    name="skills.degree-aid.v1",
    description="Degree aid (求学圆梦): applications screened, a cycle's ranking frozen, "
    "grants made, declined (passed down the ranking) and paid.",
    carries=(
        DegreeAidScreened,
        DegreeAidRanked,
        DegreeAidGranted,
        DegreeAidDeclined,
        DegreeAidPaid,
    ),
    key="cycle_id",
    partitions=3,
    retention=timedelta(days=30),
    producers=frozenset({Service.SKILLS}),
    readers=frozenset({Service.NOTIFY}),
)

SKILLS_LADDER = TopicSpec(
    name="skills.ladder.v1",
    description="The craftsman ladder (登攀计划): nominations, candidates selected under "
    "yearly quotas, quotas used up, titles recorded and revoked.",
    carries=(
        CraftsmanNominated,
        CandidateSelected,
        LadderQuotaExhausted,
        CraftsmanTitleRecorded,
        CraftsmanTitleRevoked,
    ),
    key="member_id (region:tier:year for quota events)",
    partitions=3,
    retention=timedelta(days=30),
    producers=frozenset({Service.SKILLS}),
    readers=frozenset({Service.NOTIFY}),
)

SKILLS_COMPETITIONS = TopicSpec(
    name="skills.competitions.v1",
    description="Skills competitions: published, entrants registered, a stage's results "
    "(each version superseding the one before), medals, award recommendations.",
    carries=(
        CompetitionPublished,
        EntrantRegistered,
        StageResultsPublished,
        MedalAwarded,
        AwardRecommended,
    ),
    key="competition_id",
    partitions=3,
    retention=timedelta(days=30),
    producers=frozenset({Service.SKILLS}),
    readers=frozenset({Service.NOTIFY}),
)

NOTIFY_EVENTS = TopicSpec(
    name="notify.events.v1",
    description="What became of each notice: sent, or failed after its retries.",
    carries=(NoticeSent, NoticeFailed),
    key="recipient",
    partitions=6,
    retention=timedelta(days=14),
    producers=frozenset({Service.NOTIFY}),
    readers=frozenset(),
)

TOPICS: tuple[TopicSpec, ...] = (
    MEMBERSHIP_JOIN_REQUESTS,
    MEMBERSHIP_JOIN_OUTCOMES,
    MEMBERSHIP_EVENTS,
    MEMBERSHIP_IDENTITIES,
    AID_EVENTS,
    AID_INJURY_REPORTS,
    AID_INJURY_OUTCOMES,
    AID_SETTLEMENTS,
    AID_SETTLEMENT_OUTCOMES,
    AID_CLAIMS,
    AID_INJURY_CASES,
    AID_LEGAL_REFERRALS,
    LEGAL_FILINGS,
    LEGAL_FILING_OUTCOMES,
    LEGAL_CASES,
    LEGAL_SUPERVISION,
    SKILLS_SEAT_REQUESTS,
    SKILLS_SEAT_OUTCOMES,
    SKILLS_SEATS,
    SKILLS_DEGREE_AID,
    SKILLS_LADDER,
    SKILLS_COMPETITIONS,
    NOTIFY_EVENTS,
)

BY_NAME = {topic.name: topic for topic in TOPICS}


def topic(name: str) -> TopicSpec:
    return BY_NAME[name]


@cache
def topic_for(payload: type[EventPayload]) -> TopicSpec:
    """The one topic that carries this payload type."""
    matches = [spec for spec in TOPICS if payload in spec.carries]
    if len(matches) != 1:
        raise LookupError(f"{payload.EVENT_TYPE} is carried by {len(matches)} topics, expected 1")
    return matches[0]
