"""skills's HTTP API: providers publish courses; members hold, confirm and cancel seats and see
their bookings; staff cancel sessions, record attendance and read rosters."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from gonghui_contracts.values import Line
from servicekit import Unit, UnitOfWork
from servicekit.clock import Clock
from servicekit.http import answers
from servicekit.identity import Caller, Role, require_scope, requires, staff_covers
from skills import courses, queries, seats
from skills.courses import NewCourse
from skills.errors import Invalid, NotEligible, NotFound, Refused
from skills.gate import OpenGate, SeatGate
from skills.models import Booking, CourseSession
from skills.rules import LIVE, SeatTerms

COURSE_RULES = (
    "a Guangdong city or county code of GB/T 2260; each session opens before it starts and "
    "starts before it ends; a lottery session (only) has its draw time, between the two"
)
ERROR_STATUSES = {NotFound: 404, Refused: 409, NotEligible: 403, Invalid: 422}
Member = Annotated[Caller, Depends(requires(Role.MEMBER))]
MemberOrStaff = Annotated[Caller, Depends(requires(Role.MEMBER, Role.STAFF))]
Staff = Annotated[Caller, Depends(requires(Role.STAFF))]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=100_000, description="Page: rows skipped")]
RequestKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=8,
        max_length=64,
        pattern=r"^[A-Za-z0-9._:-]+$",
        description="The app's id of this request: a retry with the same key is answered the same",
    ),
]


class SessionView(BaseModel):
    session_id: uuid.UUID
    course_id: uuid.UUID
    course_title: str
    provider: str | None = None
    campus: str
    region_code: str
    opens_at: datetime
    starts_at: datetime
    ends_at: datetime
    allocation: str
    capacity: int
    seats_left: int
    waitlist: int
    waitlist_cap: int
    status: str
    sold_out_at: datetime | None
    bookings: dict[str, int] | None = Field(default=None, description="Staff: bookings by state")


class CourseView(BaseModel):
    course_id: uuid.UUID
    title: str
    sessions: list[uuid.UUID]


class HoldAnswer(BaseModel):
    outcome: Literal["held", "confirmed", "waitlisted", "offered", "entered", "sold_out"]
    seat_id: uuid.UUID | None = None
    due_at: datetime | None = Field(default=None, description="Confirm before this (held, offered)")
    position: int | None = Field(default=None, description="Place on the waitlist")


class BookingView(BaseModel):
    seat_id: uuid.UUID
    session_id: uuid.UUID
    member_id: uuid.UUID
    state: str
    due_at: datetime | None
    position: int | None
    via: str | None
    attended: bool | None
    course_title: str | None = None
    campus: str | None = None
    starts_at: datetime | None = None


class CancelSession(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, Line(200)]


class Attendance(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seat_id: uuid.UUID
    attended: StrictBool


class AttendanceSheet(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seats: list[Attendance] = Field(min_length=1, max_length=1000)


def routers(
    uow: UnitOfWork, terms: SeatTerms, clock: Clock, gate: SeatGate | None = None
) -> list[APIRouter]:
    return [_seats(uow, terms, clock, gate or OpenGate()), _providers(uow, terms, clock)]


def own_member(caller: Caller) -> uuid.UUID:
    require_scope(caller.member_id is not None)
    assert caller.member_id is not None
    return caller.member_id


async def _staffed_session(unit: Unit, session_id: uuid.UUID, caller: Caller) -> CourseSession:
    session = await seats.find_session(unit, session_id)
    require_scope(staff_covers(caller, session.region_code))
    return session


def _seats(uow: UnitOfWork, terms: SeatTerms, clock: Clock, gate: SeatGate) -> APIRouter:
    """What members do: find sessions, hold, confirm, cancel, see their bookings."""
    api = APIRouter(prefix="/v1", tags=["seats"])

    @api.get("/sessions", response_model=list[SessionView])
    async def list_sessions(
        caller: MemberOrStaff,
        region: Annotated[
            str | None,
            Query(pattern=r"^[0-9]{2,6}$", description="A region code or its prefix"),
        ] = None,
        available: Annotated[bool, Query(description="Only sessions with seats left")] = False,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> list[SessionView]:
        """Sessions not started yet, soonest first, with seats left and waitlist length."""
        async with uow() as unit:
            found = await queries.sessions(
                unit.session,
                region_prefix=region,
                starting_after=clock.now(),
                only_available=available,
                limit=limit,
                offset=offset,
            )
        return [_session_view(row, provider) for row, provider in found]

    @api.get("/sessions/{session_id}", response_model=SessionView, responses=answers(404))
    async def one_session(session_id: uuid.UUID, caller: MemberOrStaff) -> SessionView:
        async with uow() as unit:
            session = await seats.find_session(unit, session_id)
            states = (
                await queries.states_of(unit.session, session_id)
                if staff_covers(caller, session.region_code)
                else None
            )
        return _session_view(session, None, states)

    @api.post(
        "/sessions/{session_id}/holds",
        response_model=HoldAnswer,
        responses=answers(403, 404, 409),
    )
    async def hold(session_id: uuid.UUID, caller: Member, request_key: RequestKey) -> HoldAnswer:
        """Ask for a seat: held (confirm before `due_at`), a place on the waitlist, or sold
        out; for a lottery session before its draw, an entry to the draw. A member has one
        live hold at a time and one live booking per session (or per course, if the course
        says so); asking again tells them what they have. Once a session is sold out,
        newcomers are told so without being looked up until a place frees again (seen within
        about a second)."""
        member_id = own_member(caller)
        answer = await gate.ask(member_id, request_key, session_id)
        if answer is None:
            answer = await ask_postgres(member_id, session_id, request_key)
        return HoldAnswer(
            outcome=answer.outcome,
            seat_id=answer.seat_id,
            due_at=answer.due_at,
            position=answer.position,
        )

    async def ask_postgres(
        member_id: uuid.UUID, session_id: uuid.UUID, request_key: str
    ) -> seats.Answer:
        async def ask(unit: Unit) -> seats.Answer:
            return await seats.request_seat(
                unit,
                terms,
                member_id=member_id,
                session_id=session_id,
                request_key=request_key,
                now=clock.now(),
            )

        async def known() -> list[uuid.UUID]:
            async with uow() as unit:
                return await seats.known_to_session(unit, session_id)

        answer = await seats.asked_again_if_gone(lambda: uow.once_more_on_conflict(ask))
        if answer.outcome == "sold_out":
            await gate.sold_out(session_id, known)
        return answer

    @api.get("/bookings", response_model=list[BookingView], responses=answers(404))
    async def my_bookings(caller: Member, limit: Limit = 50) -> list[BookingView]:
        """The member's own bookings, the latest first."""
        member_id = own_member(caller)
        async with uow() as unit:
            found = await queries.of_member(unit.session, member_id, limit)
        return [_booking_view(booking, session) for booking, session in found]

    @api.post(
        "/bookings/{seat_id}/confirm", response_model=BookingView, responses=answers(404, 409)
    )
    async def confirm(seat_id: uuid.UUID, caller: Member) -> BookingView:
        """Take a held or offered seat, before its deadline."""
        member_id = own_member(caller)
        async with uow() as unit:
            booking = await seats.confirm(
                unit, member_id=member_id, seat_id=seat_id, now=clock.now()
            )
            return _booking_view(booking)

    @api.post("/bookings/{seat_id}/cancel", response_model=BookingView, responses=answers(404, 409))
    async def cancel(seat_id: uuid.UUID, caller: Member) -> BookingView:
        """Give up a seat, a hold, an offer or a place on the waitlist: the seat goes to the
        first on the waitlist."""
        member_id = own_member(caller)
        async with uow() as unit:
            booking = await seats.cancel(
                unit, terms, member_id=member_id, seat_id=seat_id, now=clock.now()
            )
            return _booking_view(booking)

    return api


def _providers(uow: UnitOfWork, terms: SeatTerms, clock: Clock) -> APIRouter:
    """What providers and union staff do: publish courses, cancel sessions, record attendance,
    read rosters."""
    api = APIRouter(prefix="/v1", tags=["courses"])

    @api.post(
        "/courses",
        response_model=CourseView,
        status_code=201,
        responses=answers(403, 409, rules=COURSE_RULES),
    )
    async def publish(body: NewCourse, caller: Staff) -> CourseView:
        """A provider of the staff member's union publishes a course and its sessions."""
        require_scope(staff_covers(caller, body.region_code))
        async with uow() as unit:
            course = await courses.publish(unit, terms, body, by=caller.subject, now=clock.now())
            await unit.session.flush()
            ids = await queries.session_ids(unit.session, course.course_id)
        return CourseView(course_id=course.course_id, title=course.title, sessions=ids)

    @api.post(
        "/sessions/{session_id}/cancel", response_model=SessionView, responses=answers(404, 409)
    )
    async def cancel_session(
        session_id: uuid.UUID, body: CancelSession, caller: Staff
    ) -> SessionView:
        """Cancel a session of the staff member's region: every member on it is told."""
        async with uow() as unit:
            session = await _staffed_session(unit, session_id, caller)
            await courses.cancel_session(unit, session, reason=body.reason, now=clock.now())
        async with uow() as unit:
            return _session_view(await seats.find_session(unit, session_id), None)

    @api.post(
        "/sessions/{session_id}/attendance",
        response_model=list[BookingView],
        responses=answers(404, 409),
    )
    async def attendance(
        session_id: uuid.UUID, body: AttendanceSheet, caller: Staff
    ) -> list[BookingView]:
        """Who came, of the session's confirmed seats."""
        sheet = {line.seat_id: line.attended for line in body.seats}
        async with uow() as unit:
            session = await _staffed_session(unit, session_id, caller)
            await courses.record_attendance(unit, session, sheet, clock.now())
            found = await queries.roster(unit.session, session_id, ("confirmed",), 1000, 0)
        return [_booking_view(booking) for booking in found if booking.seat_id in sheet]

    @api.get(
        "/sessions/{session_id}/bookings", response_model=list[BookingView], responses=answers(404)
    )
    async def roster(
        session_id: uuid.UUID,
        caller: Staff,
        state: Literal["live", "confirmed", "waiting", "ended"] = "live",
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> list[BookingView]:
        """The session's bookings: live ones (seats in the order booked, then the waitlist in
        its order), confirmed seats, the waitlist, or those that ended."""
        states = {
            "live": LIVE,
            "confirmed": ("confirmed",),
            "waiting": ("waiting",),
            "ended": ("released", "expired", "lapsed", "not_drawn"),
        }[state]
        async with uow() as unit:
            await _staffed_session(unit, session_id, caller)
            found = await queries.roster(unit.session, session_id, states, limit, offset)
        return [_booking_view(booking) for booking in found]

    return api


def _session_view(
    row: CourseSession, provider: str | None, states: dict[str, int] | None = None
) -> SessionView:
    return SessionView(
        session_id=row.session_id,
        course_id=row.course_id,
        course_title=row.course_title,
        provider=provider,
        campus=row.campus,
        region_code=row.region_code,
        opens_at=row.opens_at,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        allocation=row.allocation,
        capacity=row.capacity,
        seats_left=row.capacity - row.taken,
        waitlist=row.waiting,
        waitlist_cap=row.waitlist_cap,
        status=row.status,
        sold_out_at=row.sold_out_at,
        bookings=states,
    )


def _booking_view(booking: Booking, session: CourseSession | None = None) -> BookingView:
    return BookingView(
        seat_id=booking.seat_id,
        session_id=booking.session_id,
        member_id=booking.member_id,
        state=booking.state,
        due_at=booking.due_at,
        position=booking.position,
        via=booking.via,
        attended=booking.attended,
        course_title=session.course_title if session else None,
        campus=session.campus if session else None,
        starts_at=session.starts_at if session else None,
    )
