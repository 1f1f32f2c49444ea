"""aid's tables. Amounts are integer cents."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from servicekit.db import new_metadata

Id = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = new_metadata()


class Fund(Base):
    """A gift fund; `balance_cents` only ever moves by a conditional update with a ledger row."""

    __tablename__ = "funds"

    fund_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    budget_cents: Mapped[int] = mapped_column(BigInteger)
    balance_cents: Mapped[int] = mapped_column(BigInteger)
    premium_cents: Mapped[int] = mapped_column(BigInteger)
    gifted: Mapped[int] = mapped_column(Integer, default=0)
    exhausted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LedgerEntry(Base):
    __tablename__ = "fund_ledger"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    fund_id: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # opening | premium
    amount_cents: Mapped[int] = mapped_column(BigInteger)  # negative when money leaves the fund
    balance_after_cents: Mapped[int] = mapped_column(BigInteger)
    member_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
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
