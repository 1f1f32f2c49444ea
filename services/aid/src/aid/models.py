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
ENCRYPTED = (CASE_WORKER_NAME, CASE_WORKER_RESIDENT_ID, CASE_WORKER_PHONE)


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
