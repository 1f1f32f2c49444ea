"""legal's tables (the kit's outbox and inbox live beside them). Amounts are integer cents."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
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


class Lawyer(Base):
    """A union lawyer (工会律师) of a legal-service station."""

    __tablename__ = "lawyers"

    lawyer_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    station_id: Mapped[str] = mapped_column(String(32))
    district_code: Mapped[str] = mapped_column(String(6), index=True)
    specialties: Mapped[str] = mapped_column(String(200))  # comma-separated dispute kinds
    capacity: Mapped[int] = mapped_column(Integer)
    acts_for: Mapped[str] = mapped_column(Text, default="")  # comma-separated credit codes
    on_duty: Mapped[bool] = mapped_column(Boolean, default=True)
    # Offered or accepted, not closed: moved only by conditional updates in the transaction that
    # offers, passes on or closes a case, so it is exact and never past `capacity`.
    open_cases: Mapped[int] = mapped_column(Integer, default=0)


class DisputeCase(Base):
    """One dispute: one employer, one kind, the same workers. Workers' identities are in
    `claimants`, encrypted."""

    __tablename__ = "dispute_cases"
    __table_args__ = (
        Index("ix_dispute_cases_employer_opened", "employer_code", "opened_at"),
        Index("ix_dispute_cases_open_stage_due", "closed_at", "stage_due_at"),
    )

    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    open_key: Mapped[str | None] = mapped_column(String(64), unique=True)  # NULL once closed
    channel: Mapped[str] = mapped_column(String(32))
    district_code: Mapped[str] = mapped_column(String(6), index=True)
    union_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    industry: Mapped[str] = mapped_column(String(32))
    employer_code: Mapped[str] = mapped_column(String(18))
    employer_name: Mapped[str] = mapped_column(String(100))
    workers: Mapped[int] = mapped_column(Integer)
    claimed_cents: Mapped[int] = mapped_column(BigInteger)
    priority_groups: Mapped[str] = mapped_column(String(100))  # comma-separated
    priority: Mapped[bool] = mapped_column(Boolean)
    group_dispute: Mapped[bool] = mapped_column(Boolean)
    filings: Mapped[int] = mapped_column(Integer, default=1)
    arose_on: Mapped[date] = mapped_column(Date)
    limitation_ends_on: Mapped[date] = mapped_column(Date)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    stage: Mapped[str] = mapped_column(String(16))
    stage_started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    stage_due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    stage_extended: Mapped[bool] = mapped_column(Boolean, default=False)
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # 司法确认 of the agreement
    stage_reminded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    stage_escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    limitation_reminded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    limitation_escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    lawyer_id: Mapped[str | None] = mapped_column(String(32), index=True)
    station_id: Mapped[str | None] = mapped_column(String(32))
    accept_by: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    offers: Mapped[int] = mapped_column(Integer, default=0)
    unassigned_alerted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    outcome: Mapped[str | None] = mapped_column(String(16))
    amount_cents: Mapped[int | None] = mapped_column(BigInteger)
    workers_accepting: Mapped[int | None] = mapped_column(Integer)
    trace_headers: Mapped[str] = mapped_column(Text)  # the first filing's trace: steps join it


OPEN_CASE = DisputeCase.closed_at.is_(None)
"""The condition of a case not closed yet."""


class Claimant(Base):
    __tablename__ = "claimants"
    __table_args__ = (UniqueConstraint("case_id", "sequence"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    sequence: Mapped[int] = mapped_column(Integer)
    name: Mapped[bytes] = mapped_column(LargeBinary)
    resident_id: Mapped[bytes] = mapped_column(LargeBinary)
    phone: Mapped[bytes] = mapped_column(LargeBinary)
    groups: Mapped[str] = mapped_column(String(100))
    claimed_cents: Mapped[int] = mapped_column(BigInteger)


CLAIMANT_NAME = EncryptedColumn(Claimant.name, Claimant.case_id, Claimant.sequence)
CLAIMANT_RESIDENT_ID = EncryptedColumn(Claimant.resident_id, Claimant.case_id, Claimant.sequence)
CLAIMANT_PHONE = EncryptedColumn(Claimant.phone, Claimant.case_id, Claimant.sequence)
ENCRYPTED = (CLAIMANT_NAME, CLAIMANT_RESIDENT_ID, CLAIMANT_PHONE)


class Filing(Base):
    """Each filing received, by its source's reference: a repeat is answered, not re-applied."""

    __tablename__ = "filings"
    __table_args__ = (UniqueConstraint("source", "filing_ref"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    channel: Mapped[str] = mapped_column(String(32))
    # the partner that filed it (its answers go to its own topic); a walk-in's or a referral's:
    # the channel
    source: Mapped[str] = mapped_column(String(40))
    filing_ref: Mapped[str] = mapped_column(String(64))
    station_id: Mapped[str | None] = mapped_column(String(32))  # walk-ins: where
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    outcome: Mapped[str] = mapped_column(String(16))  # opened | merged
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CaseEvent(Base):
    """A case's history: every offer, acceptance, move, deadline and the close, with who and why."""

    __tablename__ = "case_history"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    case_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    action: Mapped[str] = mapped_column(String(24))
    stage: Mapped[str] = mapped_column(String(16))
    to_stage: Mapped[str | None] = mapped_column(String(16))
    lawyer_id: Mapped[str | None] = mapped_column(String(32))
    by: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(200))


class WarningGuard(Base):
    """One warning per subject per window: raised only when `quiet_until` has passed."""

    __tablename__ = "warning_guards"

    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    subject: Mapped[str] = mapped_column(String(96), primary_key=True)
    quiet_until: Mapped[datetime] = mapped_column(UtcDateTime)


class EarlyWarning(Base):
    __tablename__ = "early_warnings"

    warning_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(96))
    union_id: Mapped[str] = mapped_column(String(64))
    district_code: Mapped[str] = mapped_column(String(6))
    count: Mapped[int] = mapped_column(Integer)
    threshold: Mapped[int] = mapped_column(Integer)
    raised_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class Letter(Base):
    """A supervision letter (一函两书) and the employer's answer."""

    __tablename__ = "supervision_letters"
    __table_args__ = (UniqueConstraint("employer_code", "letter"),)

    letter_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    employer_code: Mapped[str] = mapped_column(String(18), index=True)
    employer_name: Mapped[str] = mapped_column(String(100))
    letter: Mapped[str] = mapped_column(String(16))
    union_id: Mapped[str] = mapped_column(String(64))
    district_code: Mapped[str] = mapped_column(String(6))
    cases: Mapped[int] = mapped_column(Integer)
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime)
    respond_by: Mapped[date] = mapped_column(Date)
    response: Mapped[str | None] = mapped_column(String(16))
    responded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    recorded_by: Mapped[str | None] = mapped_column(String(64))
    superseded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)  # the next letter went
