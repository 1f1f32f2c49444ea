"""Courses: published by a provider with their sessions; a session cancelled (everyone on it told)
and its attendance recorded."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator
from sqlalchemy import select, update

from gonghui_contracts.events import (
    AttendanceRecorded,
    CoursePublished,
    SessionCancelled,
)
from gonghui_contracts.values import Line, RegionCode
from servicekit import Unit
from servicekit.http import Moment
from skills.errors import NotFound, Refused
from skills.models import Booking, Course, CourseSession
from skills.rules import LIVE, SeatTerms
from skills.seats import tell_released

MAX_SESSIONS = 200
MAX_SEATS = 10_000


class NewSession(BaseModel):
    model_config = ConfigDict(extra="forbid")
    campus: Annotated[str, Line(100)]
    opens_at: Moment = Field(description="When requests are first taken")
    starts_at: Moment
    ends_at: Moment
    capacity: StrictInt = Field(ge=1, le=MAX_SEATS)
    allocation: Literal["first_come", "lottery"] = "first_come"
    draw_at: Moment | None = Field(
        default=None, description="A lottery: entries until then, one draw after"
    )
    hold_seconds: StrictInt | None = Field(
        default=None, ge=30, le=3600, description="How long a hold waits for confirmation"
    )
    waitlist_cap: StrictInt | None = Field(default=None, ge=0, le=MAX_SEATS)

    @model_validator(mode="after")
    def _in_order(self) -> Self:
        if not self.opens_at < self.starts_at < self.ends_at:
            raise ValueError("a session opens before it starts, and starts before it ends")
        if (self.allocation == "lottery") != (self.draw_at is not None):
            raise ValueError("a lottery session has its draw_at, and only a lottery session")
        if self.draw_at is not None and not self.opens_at < self.draw_at < self.starts_at:
            raise ValueError("a lottery draws after it opens and before the session starts")
        return self


class NewCourse(BaseModel):
    model_config = ConfigDict(extra="forbid")
    provider: Annotated[str, Line(100)] = Field(description="The school or workers' palace")
    title: Annotated[str, Line(100)]
    region_code: RegionCode = Field(description="Where its campuses are: district or city")
    one_seat_per: Literal["session", "course"] = Field(
        default="session", description="A worker books one seat per session, or per course"
    )
    sessions: list[NewSession] = Field(min_length=1, max_length=MAX_SESSIONS)


async def publish(
    unit: Unit, terms: SeatTerms, course: NewCourse, *, by: str, now: datetime
) -> Course:
    if any(session.starts_at <= now for session in course.sessions):
        raise Refused("a session that has started cannot be published")
    row = Course(
        course_id=uuid.uuid4(),
        provider=course.provider,
        title=course.title,
        region_code=course.region_code,
        one_seat_per=course.one_seat_per,
        published_by=by,
        published_at=now,
    )
    unit.session.add(row)
    for new in course.sessions:
        session_id = uuid.uuid4()
        unit.session.add(
            CourseSession(
                session_id=session_id,
                course_id=row.course_id,
                course_title=course.title,
                campus=new.campus,
                region_code=course.region_code,
                opens_at=new.opens_at,
                starts_at=new.starts_at,
                ends_at=new.ends_at,
                allocation=new.allocation,
                draw_at=new.draw_at,
                capacity=new.capacity,
                hold_seconds=new.hold_seconds or int(terms.hold.total_seconds()),
                waitlist_cap=terms.waitlist_cap if new.waitlist_cap is None else new.waitlist_cap,
                scope_key=str(row.course_id if course.one_seat_per == "course" else session_id),
                taken=0,
                waiting=0,
                last_position=0,
                status="open",
            )
        )
    unit.emit(
        CoursePublished(
            course_id=row.course_id,
            provider=course.provider,
            title=course.title,
            region_code=course.region_code,
            sessions=len(course.sessions),
            seats=sum(session.capacity for session in course.sessions),
        ),
        key=str(row.course_id),
    )
    return row


async def cancel_session(unit: Unit, session: CourseSession, *, reason: str, now: datetime) -> int:
    """Every live seat and waitlist place of the session is released, and each member told;
    returns how many."""
    cancelled = (
        await unit.session.execute(
            update(CourseSession)
            .where(CourseSession.session_id == session.session_id, CourseSession.status == "open")
            .values(status="cancelled", cancelled_reason=reason, taken=0, waiting=0)
            .returning(CourseSession.session_id)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one_or_none()
    if cancelled is None:
        raise Refused("the session is cancelled already")
    live = (
        await unit.session.scalars(
            select(Booking)
            .where(Booking.session_id == session.session_id, Booking.state.in_(LIVE))
            .with_for_update()
        )
    ).all()
    for booking in live:
        tell_released(unit, session, booking, booking.state, "session_cancelled")
        booking.state, booking.due_at, booking.updated_at = "released", None, now
    unit.emit(
        SessionCancelled(
            session_id=session.session_id,
            course_id=session.course_id,
            reason=reason,
            released=len(live),
        ),
        key=str(session.session_id),
    )
    return len(live)


async def record_attendance(
    unit: Unit, session: CourseSession, attended: dict[uuid.UUID, bool], now: datetime
) -> int:
    """Who came, among the confirmed seats of a session that has started; returns how many
    were recorded."""
    if now < session.starts_at:
        raise Refused("attendance is recorded once the session has started")
    seats = (
        await unit.session.scalars(
            select(Booking).where(
                Booking.session_id == session.session_id,
                Booking.seat_id.in_(attended),
                Booking.state == "confirmed",
            )
        )
    ).all()
    missing = set(attended) - {seat.seat_id for seat in seats}
    if missing:
        raise NotFound(f"{len(missing)} of the seats are not confirmed seats of this session")
    for seat in seats:
        if seat.attended == attended[seat.seat_id]:
            continue
        seat.attended, seat.updated_at = attended[seat.seat_id], now
        unit.emit(
            AttendanceRecorded(
                seat_id=seat.seat_id,
                session_id=session.session_id,
                member_id=seat.member_id,
                attended=attended[seat.seat_id],
            ),
            key=str(session.session_id),
        )
    return len(seats)
