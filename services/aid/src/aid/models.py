"""aid's tables. Amounts are integer cents."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from servicekit.db import UtcDateTime, new_metadata
from servicekit.personal_data import EncryptedColumn

Id = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = new_metadata()


class Fund(Base):
    """A fund that pays (premiums, condolence money); `balance_cents` only ever moves by a
    conditional update with a ledger row."""

    __tablename__ = "funds"

    fund_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    budget_cents: Mapped[int] = mapped_column(BigInteger)
    balance_cents: Mapped[int] = mapped_column(BigInteger)
    premium_cents: Mapped[int | None] = mapped_column(BigInteger)  # gift funds: what one gift is
    payments: Mapped[int] = mapped_column(Integer, default=0)
    exhausted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LedgerEntry(Base):
    __tablename__ = "fund_ledger"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    fund_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # opening | premium | condolence
    amount_cents: Mapped[int] = mapped_column(BigInteger)  # negative when money leaves the fund
    balance_after_cents: Mapped[int] = mapped_column(BigInteger)
    member_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    case_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    claim_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    cause_event_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Enrolment(Base):
    __tablename__ = "enrolments"
    __table_args__ = (UniqueConstraint("member_id", "policy_year"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    policy_year: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), index=True)
    paid_by: Mapped[str | None] = mapped_column(String(16))
    offer_reason: Mapped[str | None] = mapped_column(String(32))
    premium_cents: Mapped[int] = mapped_column(BigInteger)
    fund_id: Mapped[str | None] = mapped_column(String(64))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date)
    ended_on: Mapped[date | None] = mapped_column(Date)


class Visitor(Base):
    """A full-time injury visitor (工伤探视员) of the roster."""

    __tablename__ = "visitors"

    visitor_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    station_hospital_id: Mapped[str] = mapped_column(String(32))
    on_duty: Mapped[bool] = mapped_column(Boolean, default=True)


class InjuryCase(Base):
    """One injury of one worker. The worker's identity is stored encrypted only."""

    __tablename__ = "injury_cases"
    __table_args__ = (
        Index("ix_injury_cases_awaiting_visit", "visited_at", "visit_due_at"),
        Index("ix_injury_cases_employer_reported", "employer_code", "reported_at"),
    )

    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    case_key: Mapped[str] = mapped_column(String(64), unique=True)
    # the worker's resident-ID fingerprint: a person's cases found together (relief links them)
    worker_key: Mapped[str | None] = mapped_column(String(64), index=True)
    worker_name: Mapped[bytes] = mapped_column(LargeBinary)
    worker_resident_id: Mapped[bytes] = mapped_column(LargeBinary)
    worker_phone: Mapped[bytes] = mapped_column(LargeBinary)
    employer_code: Mapped[str] = mapped_column(String(18))
    employer_name: Mapped[str] = mapped_column(String(100))
    industry: Mapped[str] = mapped_column(String(32))
    hospital_id: Mapped[str] = mapped_column(String(32))
    district_code: Mapped[str] = mapped_column(String(6), index=True)
    union_id: Mapped[str] = mapped_column(String(64))
    injured_on: Mapped[date] = mapped_column(Date)
    injury_kind: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    admission: Mapped[str] = mapped_column(String(16))
    reported_by: Mapped[str] = mapped_column(String(16))  # who reported first
    reports: Mapped[int] = mapped_column(Integer, default=1)
    reported_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    visit_due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    visitor_id: Mapped[str | None] = mapped_column(String(32), index=True)
    accept_by: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    offers: Mapped[int] = mapped_column(Integer, default=0)
    unassigned_alerted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    visited_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    visited_by: Mapped[str | None] = mapped_column(String(32))
    needs: Mapped[str | None] = mapped_column(String(64))  # comma-separated
    condolence_cents: Mapped[int | None] = mapped_column(BigInteger)
    condolence_unpaid: Mapped[bool] = mapped_column(Boolean, default=False)
    discharged_on: Mapped[date | None] = mapped_column(Date)
    referral_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    compensation_problem: Mapped[str | None] = mapped_column(String(32))
    trace_headers: Mapped[str] = mapped_column(Text)  # the report's trace: later steps join it


CASE_WORKER_NAME = EncryptedColumn(InjuryCase.worker_name, InjuryCase.case_id)
CASE_WORKER_RESIDENT_ID = EncryptedColumn(InjuryCase.worker_resident_id, InjuryCase.case_id)
CASE_WORKER_PHONE = EncryptedColumn(InjuryCase.worker_phone, InjuryCase.case_id)
ENCRYPTED_CASE_COLUMNS = (CASE_WORKER_NAME, CASE_WORKER_RESIDENT_ID, CASE_WORKER_PHONE)


class InjuryReport(Base):
    """Each report received, by its reporter's reference: a repeat is answered, not re-applied."""

    __tablename__ = "injury_reports"
    __table_args__ = (UniqueConstraint("source", "report_ref"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(32))  # the hospital's id, or "app"
    report_ref: Mapped[str] = mapped_column(String(64))
    reporter: Mapped[str] = mapped_column(String(16))
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    outcome: Mapped[str] = mapped_column(String(16))  # opened | merged
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)


class VisitOffer(Base):
    """The history of who was asked to visit a case, and what came of it."""

    __tablename__ = "visit_offers"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    visitor_id: Mapped[str] = mapped_column(String(32))
    attempt: Mapped[int] = mapped_column(Integer)
    offered_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16))  # offered|accepted|declined|lapsed|visited
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class FollowUp(Base):
    __tablename__ = "follow_ups"
    __table_args__ = (UniqueConstraint("case_id", "sequence"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    sequence: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), index=True)
    recorded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class InsuredPerson(Base):
    """A member as the medical-insurance bureau knows them: found by the fingerprint of their
    resident ID (never stored in the clear), with the union and region their claims count in."""

    __tablename__ = "insured_persons"

    member_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    person_key: Mapped[str] = mapped_column(String(64), unique=True)
    resident_id: Mapped[bytes] = mapped_column(LargeBinary)
    union_id: Mapped[str] = mapped_column(String(64))
    region_code: Mapped[str] = mapped_column(String(6))
    city_code: Mapped[str] = mapped_column(String(6))


INSURED_RESIDENT_ID = EncryptedColumn(InsuredPerson.resident_id, InsuredPerson.member_id)


class Claim(Base):
    """One hospital stay claimed on the cover: a bureau's settlement (all its revisions) or a
    member's own claim. `payout_cents` is what it pays in all now; money moves only by the
    difference, through `ClaimPayment` rows and the fund's ledger."""

    __tablename__ = "claims"
    __table_args__ = (
        UniqueConstraint("source", "reference"),
        Index("ix_claims_status_received", "status", "received_at"),
    )

    claim_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    origin: Mapped[str] = mapped_column(String(16))  # settlement | member
    source: Mapped[str] = mapped_column(String(40))  # the bureau's partner id, or "app"
    reference: Mapped[str] = mapped_column(String(64))
    revision: Mapped[int] = mapped_column(Integer)
    member_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    policy_year: Mapped[int | None] = mapped_column(Integer)
    union_id: Mapped[str | None] = mapped_column(String(64))
    city_code: Mapped[str | None] = mapped_column(String(6))
    district_code: Mapped[str | None] = mapped_column(String(6), index=True)
    hospital: Mapped[str] = mapped_column(String(100))
    admitted_on: Mapped[date] = mapped_column(Date)
    discharged_on: Mapped[date] = mapped_column(Date)
    total_cents: Mapped[int] = mapped_column(BigInteger)
    basic_paid_cents: Mapped[int] = mapped_column(BigInteger)
    out_of_pocket_cents: Mapped[int] = mapped_column(BigInteger)
    diagnosis: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    decided_by: Mapped[str] = mapped_column(String(8))  # auto | staff
    proposed_cents: Mapped[int] = mapped_column(BigInteger)  # what the rules give, capped
    payout_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    counted_cents: Mapped[int] = mapped_column(
        BigInteger, default=0
    )  # its part of the year's own costs
    reasons: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of RejectionReason
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime)
    trace_headers: Mapped[str] = mapped_column(Text)


class ClaimHistory(Base):
    """Every decision on a claim: who, why, and what it moved."""

    __tablename__ = "claim_history"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    claim_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(64))  # "auto", or the staff subject
    action: Mapped[str] = mapped_column(String(16))
    revision: Mapped[int] = mapped_column(Integer)
    change_cents: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str | None] = mapped_column(Text)


class ClaimYear(Base):
    """A member's claims in one policy year: what they paid (never past the yearly cap) and what
    the stays still cost the member. Locked while a claim of the member changes."""

    __tablename__ = "claim_years"

    member_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    policy_year: Mapped[int] = mapped_column(Integer, primary_key=True)
    paid_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    out_of_pocket_after_cents: Mapped[int] = mapped_column(BigInteger, default=0)


class ClaimPayment(Base):
    """Money to a member (a payout or condolence) through the payment channel, or a clawback
    the member owes back. The payment id is the channel's idempotency key."""

    __tablename__ = "claim_payments"
    __table_args__ = (Index("ix_claim_payments_due", "status", "next_attempt_at"),)

    payment_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    claim_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    kind: Mapped[str] = mapped_column(String(16))  # payout | condolence | clawback
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))  # pending | paid | failed | owed | cancelled
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(String(200))


class IllnessEpisode(Base):
    """Condolence for serious illness is paid once per member, policy year and illness."""

    __tablename__ = "illness_episodes"
    __table_args__ = (UniqueConstraint("member_id", "policy_year", "diagnosis"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    policy_year: Mapped[int] = mapped_column(Integer)
    diagnosis: Mapped[str] = mapped_column(String(16))
    claim_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    condolence_cents: Mapped[int] = mapped_column(BigInteger)  # 0: the fund could not pay


class ReliefCase(Base):
    """A hardship-relief referral (救助) to the member's district union, once per policy year."""

    __tablename__ = "relief_cases"
    __table_args__ = (UniqueConstraint("member_id", "policy_year"),)

    relief_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    policy_year: Mapped[int] = mapped_column(Integer)
    union_id: Mapped[str] = mapped_column(String(64))
    district_code: Mapped[str] = mapped_column(String(6), index=True)
    out_of_pocket_after_cents: Mapped[int] = mapped_column(BigInteger)
    linked_injury_cases: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of ids
    status: Mapped[str] = mapped_column(String(16))  # open | granted | declined
    granted_cents: Mapped[int | None] = mapped_column(BigInteger)
    note: Mapped[str | None] = mapped_column(String(200))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(64))


ENCRYPTED = (*ENCRYPTED_CASE_COLUMNS, INSURED_RESIDENT_ID)
