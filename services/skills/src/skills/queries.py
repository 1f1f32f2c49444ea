"""What providers, staff and members read: sessions with seats left, a member's bookings, a
session's roster. Every list is bounded by its caller's `limit`."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from skills.models import Booking, Course, CourseSession


async def sessions(
    db: AsyncSession,
    *,
    region_prefix: str | None,
    starting_after: datetime,
    only_available: bool,
    limit: int,
    offset: int,
) -> list[tuple[CourseSession, str]]:
    """Sessions starting after `starting_after`, soonest first, with their provider."""
    query: Select[tuple[CourseSession, str]] = (
        select(CourseSession, Course.provider)
        .join(Course, Course.course_id == CourseSession.course_id)
        .where(CourseSession.starts_at > starting_after, CourseSession.status == "open")
        .order_by(CourseSession.starts_at, CourseSession.session_id)
        .limit(limit)
        .offset(offset)
    )
    if region_prefix:
        query = query.where(CourseSession.region_code.startswith(region_prefix))
    if only_available:
        query = query.where(CourseSession.taken < CourseSession.capacity)
    return [(row, provider) for row, provider in (await db.execute(query)).tuples()]


async def of_member(
    db: AsyncSession, member_id: uuid.UUID, limit: int
) -> list[tuple[Booking, CourseSession]]:
    """A member's bookings, the latest first."""
    query = (
        select(Booking, CourseSession)
        .join(CourseSession, CourseSession.session_id == Booking.session_id)
        .where(Booking.member_id == member_id)
        .order_by(Booking.created_at.desc())
        .limit(limit)
    )
    return list((await db.execute(query)).tuples())


async def roster(
    db: AsyncSession, session_id: uuid.UUID, states: tuple[str, ...], limit: int, offset: int
) -> list[Booking]:
    """A session's bookings in `states`: seats in the order booked, the waitlist in its order."""
    query = (
        select(Booking)
        .where(Booking.session_id == session_id, Booking.state.in_(states))
        .order_by(Booking.position.nulls_first(), Booking.created_at, Booking.seat_id)
        .limit(limit)
        .offset(offset)
    )
    return list((await db.execute(query)).scalars())


async def states_of(db: AsyncSession, session_id: uuid.UUID) -> dict[str, int]:
    """How many bookings of the session are in each state."""
    query = (
        select(Booking.state, func.count())
        .where(Booking.session_id == session_id)
        .group_by(Booking.state)
    )
    return dict((await db.execute(query)).tuples().all())


async def session_ids(db: AsyncSession, course_id: uuid.UUID) -> list[uuid.UUID]:
    query = (
        select(CourseSession.session_id)
        .where(CourseSession.course_id == course_id)
        .order_by(CourseSession.starts_at, CourseSession.session_id)
    )
    return list((await db.execute(query)).scalars())
