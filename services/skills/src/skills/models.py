"""skills's tables (the kit's outbox and inbox live beside them)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from servicekit.db import UtcDateTime, new_metadata
from skills.rules import LIVE


class Base(DeclarativeBase):
    metadata = new_metadata()


class Member(Base):
    """Who may book: membership's members, as its events tell them."""

    __tablename__ = "members"

    member_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    union_id: Mapped[str] = mapped_column(String(64))
    region_code: Mapped[str] = mapped_column(String(6))
    active: Mapped[bool] = mapped_column(Boolean)


class Course(Base):
    __tablename__ = "courses"

    course_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    provider: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(100))
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    one_seat_per: Mapped[str] = mapped_column(String(8))  # "session" or "course"
    published_by: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(UtcDateTime)


_LIVE_STATES = ", ".join(f"'{state}'" for state in LIVE)


class CourseSession(Base):
    """One class of a course. `taken` counts its held, offered and confirmed seats and `waiting`
    its waitlist: both move only by conditional updates in the transaction that changes a
    booking, and the database refuses them past capacity."""

    __tablename__ = "sessions"
    __table_args__ = (
        CheckConstraint("taken >= 0 AND taken <= capacity", name="seats_within_capacity"),
        CheckConstraint("waiting >= 0 AND waiting <= waitlist_cap", name="waitlist_within_cap"),
        Index("ix_sessions_region_starts", "region_code", "starts_at"),
        Index("ix_sessions_draw", "drawn_at", "draw_at"),
    )

    session_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    course_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    course_title: Mapped[str] = mapped_column(String(100))
    campus: Mapped[str] = mapped_column(String(100))
    region_code: Mapped[str] = mapped_column(String(6))
    opens_at: Mapped[datetime] = mapped_column(UtcDateTime)
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime] = mapped_column(UtcDateTime)
    allocation: Mapped[str] = mapped_column(String(12))
    capacity: Mapped[int] = mapped_column(Integer)
    hold_seconds: Mapped[int] = mapped_column(Integer)
    waitlist_cap: Mapped[int] = mapped_column(Integer)
    scope_key: Mapped[str] = mapped_column(String(36))  # where "one seat per worker" applies
    taken: Mapped[int] = mapped_column(Integer, default=0)
    waiting: Mapped[int] = mapped_column(Integer, default=0)
    last_position: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(12), default="open")
    sold_out_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # A lottery session takes entries until `draw_at`, then draws once with a stored seed.
    draw_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    drawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    lottery_seed: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    cancelled_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)


class Booking(Base):
    """A member's seat or place on a session's waitlist, from request to its end.

    held → confirmed | expired | released; waiting → offered → confirmed | lapsed | released;
    entered (a lottery) → offered (won) | waiting | not_drawn.
    The partial unique indexes give one live booking per worker where the course's rule says
    (session or course) and one live hold per worker at a time."""

    __tablename__ = "bookings"
    __table_args__ = (
        Index(
            "uq_bookings_live_per_scope",
            "scope_key",
            "member_id",
            unique=True,
            postgresql_where=text(f"state IN ({_LIVE_STATES})"),
            sqlite_where=text(f"state IN ({_LIVE_STATES})"),
        ),
        Index(
            "uq_bookings_one_hold",
            "member_id",
            unique=True,
            postgresql_where=text("state = 'held'"),
            sqlite_where=text("state = 'held'"),
        ),
        Index("ix_bookings_session_state_position", "session_id", "state", "position"),
        Index("ix_bookings_state_due", "state", "due_at"),
    )

    seat_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    session_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    scope_key: Mapped[str] = mapped_column(String(36))
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    state: Mapped[str] = mapped_column(String(12))
    position: Mapped[int | None] = mapped_column(Integer, nullable=True)
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)  # hold or offer
    via: Mapped[str | None] = mapped_column(String(8), nullable=True)
    attended: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SeatRequest(Base):
    """The answer given to a member's hold request, so that its retries are answered the same."""

    __tablename__ = "seat_requests"

    member_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    request_key: Mapped[str] = mapped_column(String(110), primary_key=True)  # gateway:ref
    session_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)  # whom the gate must know
    answer: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UtcDateTime)


class DegreeAidCycle(Base):
    """A round of degree aid (求学圆梦): its budget never pays more than `granted_cents`, moved
    only by conditional updates in the transaction that grants or takes back a grant."""

    __tablename__ = "degree_aid_cycles"
    __table_args__ = (
        CheckConstraint("granted_cents <= budget_cents", name="grants_within_budget"),
        CheckConstraint("grants <= cap", name="grants_within_cap"),
    )

    cycle_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    budget_cents: Mapped[int] = mapped_column(BigInteger)
    amount_cents: Mapped[int] = mapped_column(BigInteger)
    cap: Mapped[int] = mapped_column(Integer)
    opens_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closes_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(12))  # open, ranked
    granted_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    grants: Mapped[int] = mapped_column(Integer, default=0)
    ranked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_by: Mapped[str] = mapped_column(String(64))


class DegreeAidApplication(Base):
    """applied → passed | failed (screening); passed → granted | waiting (ranking);
    granted → declined | paid; waiting → granted (a grant passed down)."""

    __tablename__ = "degree_aid_applications"
    __table_args__ = (
        UniqueConstraint("cycle_id", "member_id"),
        Index("ix_degree_aid_applications_cycle_status_rank", "cycle_id", "status", "rank"),
    )

    application_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    cycle_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    programme: Mapped[str] = mapped_column(String(100))
    exam_score: Mapped[int] = mapped_column(Integer)  # as the applicant gave it
    verified_score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    rank: Mapped[int | None] = mapped_column(Integer, nullable=True)
    applied_at: Mapped[datetime] = mapped_column(UtcDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    payment_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)


class LadderQuota(Base):
    """How many candidates (培育对象) a region's union may select for a tier in a year; `used`
    moves only by a conditional update in the selecting transaction."""

    __tablename__ = "ladder_quotas"
    __table_args__ = (CheckConstraint("used >= 0 AND used <= quota", name="used_within_quota"),)

    region_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    tier: Mapped[str] = mapped_column(String(12), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    quota: Mapped[int] = mapped_column(Integer)
    used: Mapped[int] = mapped_column(Integer, default=0)
    exhausted_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class Nomination(Base):
    """nominated → selected (a candidate, within the quota) | withdrawn."""

    __tablename__ = "nominations"
    __table_args__ = (
        UniqueConstraint("member_id", "tier", "year"),
        Index("ix_nominations_region_year", "region_code", "year"),
    )

    nomination_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    region_code: Mapped[str] = mapped_column(String(6))
    tier: Mapped[str] = mapped_column(String(12))
    year: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(12))
    source_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reason: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12))
    nominated_by: Mapped[str] = mapped_column(String(64))
    nominated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    selected_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class CraftsmanTitle(Base):
    """A title of the ladder a worker holds (one per tier while not revoked)."""

    __tablename__ = "craftsman_titles"
    __table_args__ = (
        Index(
            "uq_craftsman_titles_held",
            "member_id",
            "tier",
            unique=True,
            postgresql_where=text("revoked_at IS NULL"),
            sqlite_where=text("revoked_at IS NULL"),
        ),
    )

    title_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    member_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    tier: Mapped[str] = mapped_column(String(12))
    year: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(20))
    reference: Mapped[str] = mapped_column(String(64))
    nomination_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)
    recorded_by: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    revoke_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)


class Competition(Base):
    __tablename__ = "competitions"

    competition_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    organiser: Mapped[str] = mapped_column(String(100))
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    year: Mapped[int] = mapped_column(Integer)
    medals: Mapped[str] = mapped_column(Text)  # JSON: medal → how many
    nominates: Mapped[str] = mapped_column(Text)  # JSON: medal → ladder tier
    award: Mapped[str] = mapped_column(String(50))
    stages: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CompetitionStage(Base):
    """waiting (the stage before is not frozen) → open (judges score) → frozen (results)."""

    __tablename__ = "competition_stages"

    competition_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    criteria: Mapped[str] = mapped_column(Text)  # JSON: [{name, weight, scale}]
    advance: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: the last stage
    status: Mapped[str] = mapped_column(String(8))
    results_version: Mapped[int] = mapped_column(Integer, default=0)
    reopen_reason: Mapped[str | None] = mapped_column(String(200), nullable=True)


class PanelJudge(Base):
    __tablename__ = "panel_judges"

    competition_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    judge_id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the judge's token `sub`
    name: Mapped[str] = mapped_column(String(50))
    employer_code: Mapped[str] = mapped_column(String(18))


class Entrant(Base):
    __tablename__ = "entrants"
    __table_args__ = (UniqueConstraint("competition_id", "name"),)

    entrant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    competition_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(100))
    employer_code: Mapped[str] = mapped_column(String(18))
    members: Mapped[str] = mapped_column(Text)  # JSON: member ids
    reached_stage: Mapped[int] = mapped_column(Integer, default=1)
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ScoreSheet(Base):
    """One judge's points for one entrant at one stage; replaced until the stage freezes."""

    __tablename__ = "score_sheets"

    competition_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    stage: Mapped[int] = mapped_column(Integer, primary_key=True)
    judge_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    entrant_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    points: Mapped[str] = mapped_column(Text)  # JSON: criterion → points
    scored_at: Mapped[datetime] = mapped_column(UtcDateTime)


class StageResult(Base):
    """A stage's results as computed when it froze; a re-scoring adds the next version."""

    __tablename__ = "stage_results"

    competition_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    stage: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    standings: Mapped[str] = mapped_column(Text)  # JSON: [{entrant_id, rank, score, judges}]
    medals: Mapped[str] = mapped_column(Text)  # JSON: entrant id → medal (the last stage)
    reason: Mapped[str | None] = mapped_column(String(200), nullable=True)
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime)
