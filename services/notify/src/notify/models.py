"""notify's tables: one row per notice, unique per recipient, cause and template."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String, Text, UniqueConstraint, Uuid, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from servicekit.db import new_metadata


class Base(DeclarativeBase):
    metadata = new_metadata()


class Notice(Base):
    __tablename__ = "notices"
    __table_args__ = (
        UniqueConstraint("recipient", "cause_event_id", "template"),
        # The sender's query: pending notices by due time. Sent ones (most rows) stay out of it.
        Index(
            "ix_notices_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )

    notice_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    recipient: Mapped[str] = mapped_column(String(80))  # found through the unique constraint
    template: Mapped[str] = mapped_column(String(40))
    locale: Mapped[str] = mapped_column(String(8))
    body: Mapped[str] = mapped_column(Text)
    cause_event_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    correlation_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    trace_headers: Mapped[str] = mapped_column(Text, doc="JSON: the trace context of the cause")
    status: Mapped[str] = mapped_column(String(12))  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
