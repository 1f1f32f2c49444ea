"""membership's tables. Personal data is stored encrypted; `person_key` is its keyed hash."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, LargeBinary, String, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from servicekit.db import new_metadata
from servicekit.personal_data import EncryptedColumn


class Base(DeclarativeBase):
    metadata = new_metadata()


class Member(Base):
    __tablename__ = "members"

    member_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    person_key: Mapped[str] = mapped_column(String(64), unique=True, doc="Resident ID fingerprint")
    resident_id_enc: Mapped[bytes] = mapped_column(LargeBinary)
    phone_enc: Mapped[bytes] = mapped_column(LargeBinary)
    name_enc: Mapped[bytes] = mapped_column(LargeBinary)
    union_id: Mapped[str] = mapped_column(String(64), index=True)
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    city_code: Mapped[str] = mapped_column(String(6), index=True)
    industry: Mapped[str] = mapped_column(String(32), index=True)
    new_employment_form: Mapped[bool]
    channel: Mapped[str] = mapped_column(String(32))
    partner_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True)
    joined_on: Mapped[date] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date)


MEMBER_RESIDENT_ID = EncryptedColumn(Member.resident_id_enc, Member.member_id)
MEMBER_PHONE = EncryptedColumn(Member.phone_enc, Member.member_id)
MEMBER_NAME = EncryptedColumn(Member.name_enc, Member.member_id)
ENCRYPTED = (MEMBER_RESIDENT_ID, MEMBER_PHONE, MEMBER_NAME)


class MemberHistory(Base):
    """Every change of a membership: joined, transferred, left, rejoined."""

    __tablename__ = "member_history"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.member_id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    change: Mapped[str] = mapped_column(String(16))
    from_union_id: Mapped[str | None] = mapped_column(String(64))
    to_union_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(200))
