"""Scarce seats: hold, confirm, cancel, the waitlist and its offers, holds that expire and offers
that lapse.

Postgres decides every seat: a session's `taken` and `waiting` counters move only by
conditional updates (`... WHERE taken < capacity`) in the same transaction as the booking they
count, a check constraint refuses them past capacity, and partial unique indexes refuse a second
live booking of a worker in one scope or a second live hold. A seat is freed by the conditional
state change of its booking, so it is freed once, whoever (sweep, member, leaver) gets there
first.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, cast

from sqlalchemy import (
    BindParameter,
    CursorResult,
    Executable,
    Table,
    bindparam,
    exists,
    insert,
    select,
    update,
)
from sqlalchemy.orm.attributes import InstrumentedAttribute, set_committed_value

from gonghui_contracts import EnvelopeHead
from gonghui_contracts.events import (
    HoldExpired,
    OfferLapsed,
    SeatConfirmed,
    SeatHeld,
    SeatReleased,
    SessionSoldOut,
    WaitlistJoined,
    WaitlistOffered,
)
from gonghui_contracts.events.skills import ReleaseReason
from servicekit import Unit, UnitOfWork, offers
from skills import rules
from skills.errors import NotEligible, NotFound, Refused, found
from skills.models import Booking, CourseSession, Member, SeatRequest
from skills.rules import LIVE, SEATED, SeatTerms

Outcome = Literal["held", "confirmed", "waitlisted", "offered", "entered", "sold_out"]
OUTCOME_OF_STATE: dict[str, Outcome] = {
    "held": "held",
    "confirmed": "confirmed",
    "waiting": "waitlisted",
    "offered": "offered",
    "entered": "entered",
}
SWEEP_BATCH = 200
_VIA: dict[str, Literal["hold", "offer"]] = {"held": "hold", "offered": "offer"}
SEAT_GONE_TRIES = 3
Request = dict[str, Any]  # a hold request's row in seat_requests, but its answer

# A flash sale's statements, built once (and their cache keys with them): Core statements and
# plain rows on the path a burst hammers.
_STORED = select(SeatRequest.session_id, SeatRequest.answer).where(
    SeatRequest.member_id == bindparam("member_id"),
    SeatRequest.request_key == bindparam("request_key"),
)
_ASKING: BindParameter[uuid.UUID] = bindparam("member_id")
# What a request needs to know, in one round trip: the session, the answer kept for the
# request's key, whether the member is active, their live booking in the session's scope and
# whether they hold a seat anywhere.
_LOOKUP = select(
    CourseSession,
    select(SeatRequest.session_id)
    .where(SeatRequest.member_id == _ASKING, SeatRequest.request_key == bindparam("request_key"))
    .scalar_subquery()
    .label("stored_session"),
    select(SeatRequest.answer)
    .where(SeatRequest.member_id == _ASKING, SeatRequest.request_key == bindparam("request_key"))
    .scalar_subquery()
    .label("stored_answer"),
    select(Member.active).where(Member.member_id == _ASKING).scalar_subquery().label("active"),
    select(Booking.seat_id)
    .where(
        Booking.member_id == _ASKING,
        Booking.scope_key == CourseSession.scope_key,
        Booking.state.in_(LIVE),
    )
    .scalar_subquery()
    .label("live_seat"),
    exists().where(Booking.member_id == _ASKING, Booking.state == "held").label("holding"),
).where(CourseSession.session_id == bindparam("session_id"))
_LOOKUP = _LOOKUP.execution_options(populate_existing=True)  # asked again: read afresh
_SESSIONS = cast(Table, CourseSession.__table__)
_OPEN_SESSION = (  # a parameter of an UPDATE may not be named as a column it sets
    _SESSIONS.c.session_id == bindparam("the_session"),
    _SESSIONS.c.status == "open",
)
_TAKE = (
    update(_SESSIONS)
    .where(*_OPEN_SESSION, _SESSIONS.c.taken < _SESSIONS.c.capacity)
    .values(taken=_SESSIONS.c.taken + 1)
    .returning(_SESSIONS.c.taken)
)
_JOIN_WAITLIST = (
    update(_SESSIONS)
    .where(*_OPEN_SESSION, _SESSIONS.c.waiting < _SESSIONS.c.waitlist_cap)
    .values(waiting=_SESSIONS.c.waiting + 1, last_position=_SESSIONS.c.last_position + 1)
    .returning(_SESSIONS.c.last_position)
)
_ANSWERED = insert(cast(Table, SeatRequest.__table__))
_BOOKED = insert(cast(Table, Booking.__table__))
_BOOKING_COLUMNS = tuple(c.key for c in Booking.__table__.columns)


@dataclass(frozen=True)
class Answer:
    """What a hold request is told; stored, so that its retries are told the same."""

    outcome: Outcome
    seat_id: uuid.UUID | None = None
    due_at: datetime | None = None
    position: int | None = None

    def to_json(self) -> str:
        return json.dumps(
            {
                "outcome": self.outcome,
                "seat_id": str(self.seat_id) if self.seat_id else None,
                "due_at": self.due_at.isoformat() if self.due_at else None,
                "position": self.position,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Answer:
        fields = json.loads(text)
        return cls(
            outcome=fields["outcome"],
            seat_id=uuid.UUID(fields["seat_id"]) if fields["seat_id"] else None,
            due_at=datetime.fromisoformat(fields["due_at"]) if fields["due_at"] else None,
            position=fields["position"],
        )

    @classmethod
    def of(cls, booking: Booking) -> Answer:
        return cls(
            OUTCOME_OF_STATE[booking.state], booking.seat_id, booking.due_at, booking.position
        )


SOLD_OUT = Answer("sold_out")


async def request_seat(
    unit: Unit,
    terms: SeatTerms,
    *,
    member_id: uuid.UUID,
    session_id: uuid.UUID,
    request_key: str,
    now: datetime,
) -> Answer:
    """A member asks for a seat: held if one is free, else a place on the waitlist, else sold
    out. A request sent again (same key) is answered as the first time; a member who already
    has a live booking in the scope is told what it is. Raises SeatGone if the seat it read
    free went to another request meanwhile: its caller undoes the transaction and asks again."""
    request: Request = {
        "member_id": member_id,
        "request_key": request_key,
        "session_id": session_id,
        "at": now,
    }
    keys = {"member_id": member_id, "request_key": request_key}
    found = (await unit.session.execute(_LOOKUP, {**keys, "session_id": session_id})).one_or_none()
    if found is None:
        if (await unit.session.execute(_STORED, keys)).one_or_none() is not None:
            raise Refused("this Idempotency-Key was used for another session")
        raise NotFound("no such session")
    session = found.CourseSession
    if found.stored_answer is not None:
        if found.stored_session != session_id:
            raise Refused("this Idempotency-Key was used for another session")
        return Answer.from_json(found.stored_answer)
    if not found.active:
        raise NotEligible("seats are for active members of the union")
    available = rules.availability(
        now,
        session.opens_at,
        session.starts_at,
        session.status,
        session.draw_at,
        drawn=session.drawn_at is not None,
    )
    if available != "open":
        raise Refused(f"the session takes no requests: {available.replace('_', ' ')}")
    live = await unit.session.get(Booking, found.live_seat) if found.live_seat else None
    if live is not None and live.state == "waiting" and live.session_id == session_id:
        answer = await _from_waitlist_to_seat(unit, session, live, now) or Answer.of(live)
    elif live is not None:
        answer = Answer.of(live)
    elif rules.takes_entries(now, session.draw_at):
        booking = _booking(session, member_id, "entered", now)
        unit.session.add(booking)
        answer = Answer.of(booking)
    elif found.holding:
        raise Refused("you hold another seat: confirm or cancel it first")
    else:
        return await _seat_or_place(unit, session, member_id, now, request)
    await _answered(unit, request, answer)
    return answer


async def _seat_or_place(
    unit: Unit, session: CourseSession, member_id: uuid.UUID, now: datetime, request: Request
) -> Answer:
    """A seat if one is left, else a place on the waitlist, else sold out; answered. A session
    read full is not asked again: its conditional updates would fail."""
    if session.taken < session.capacity:
        return await _hold(unit, session, member_id, now, request)
    answer = None
    if session.waiting < session.waitlist_cap:
        answer = await _join_waitlist(unit, session, member_id, now)
    answer = answer or SOLD_OUT
    await _answered(unit, request, answer)
    return answer


async def _answered(unit: Unit, request: Request, answer: Answer) -> None:
    """The request's answer, kept for its retries."""
    await _core(unit, _ANSWERED, {**request, "answer": answer.to_json()})


async def confirm(
    unit: Unit, *, member_id: uuid.UUID, seat_id: uuid.UUID, now: datetime
) -> Booking:
    """The member takes their held or offered seat, before its deadline."""
    booking = await _own_booking(unit, member_id, seat_id)
    if booking.state == "confirmed":
        return booking
    if booking.state not in ("held", "offered"):
        raise Refused(f"the booking is {booking.state}: nothing to confirm")
    if booking.due_at is not None and booking.due_at <= now:
        raise Refused(f"the {'hold' if booking.state == 'held' else 'offer'} ran out")
    was = booking.state
    if not await move(unit, booking, was, "confirmed", now, via=_VIA[was]):
        raise Refused("the booking changed meanwhile: ask for it again")
    session = await find_session(unit, booking.session_id)
    unit.emit(
        SeatConfirmed(
            seat_id=booking.seat_id,
            session_id=session.session_id,
            course_id=session.course_id,
            member_id=member_id,
            course_title=session.course_title,
            campus=session.campus,
            starts_at=session.starts_at,
            via=_VIA[was],
        ),
        key=str(session.session_id),
    )
    return booking


async def cancel(
    unit: Unit, terms: SeatTerms, *, member_id: uuid.UUID, seat_id: uuid.UUID, now: datetime
) -> Booking:
    """The member gives up their seat, hold, offer or place on the waitlist."""
    booking = await _own_booking(unit, member_id, seat_id)
    if booking.state not in LIVE:
        raise Refused(f"the booking is {booking.state}: nothing to cancel")
    session = await find_session(unit, booking.session_id)
    if booking.state == "confirmed" and now >= session.starts_at:
        raise Refused("the session has started")
    if not await release(unit, terms, booking, "cancelled_by_member", now):
        raise Refused("the booking changed meanwhile: ask for it again")
    return booking


async def release(
    unit: Unit, terms: SeatTerms, booking: Booking, reason: ReleaseReason, now: datetime
) -> bool:
    """End a live booking; its seat goes to the waitlist or back on sale. False if another
    transaction ended it first."""
    was = booking.state
    if not await move(unit, booking, was, "released", now):
        return False
    session = await find_session(unit, booking.session_id)
    if was in SEATED:
        await _free_seat(unit, terms, session, now)
    elif was == "waiting":
        await _leave_waitlist(unit, session.session_id)
    tell_released(unit, session, booking, was, reason)
    return True


def tell_released(
    unit: Unit, session: CourseSession, booking: Booking, was: str, reason: ReleaseReason
) -> None:
    unit.emit(
        SeatReleased(
            seat_id=booking.seat_id,
            session_id=session.session_id,
            member_id=booking.member_id,
            was=was,
            reason=reason,
            course_title=session.course_title,
            starts_at=session.starts_at,
        ),
        key=str(session.session_id),
    )


async def end_due(uow: UnitOfWork, terms: SeatTerms, now: datetime) -> int:
    """Holds and offers past their deadline end, each in its own transaction (one that fails
    stops nothing else); returns how many ended."""
    async with uow() as unit:
        due = (
            await unit.session.execute(
                select(Booking.seat_id, Booking.state)
                .where(Booking.state.in_(("held", "offered")), Booking.due_at <= now)
                .order_by(Booking.due_at)
                .limit(SWEEP_BATCH)
            )
        ).all()
    ended = 0
    for seat_id, state in due:
        async with uow() as unit:
            ended += await _end_one(unit, terms, seat_id, state, now)
    return ended


async def _end_one(
    unit: Unit, terms: SeatTerms, seat_id: uuid.UUID, state: str, now: datetime
) -> int:
    booking = (
        await unit.session.execute(
            select(Booking)
            .where(Booking.seat_id == seat_id, Booking.state == state, Booking.due_at <= now)
            .with_for_update(skip_locked=True)
        )
    ).scalar_one_or_none()
    if booking is None:
        return 0  # confirmed, cancelled or ended meanwhile
    ended = "expired" if state == "held" else "lapsed"
    if not await move(unit, booking, state, ended, now):
        return 0
    session = await find_session(unit, booking.session_id)
    key = str(booking.session_id)
    if state == "held":
        unit.emit(
            HoldExpired(
                seat_id=seat_id, session_id=session.session_id, member_id=booking.member_id
            ),
            key=key,
        )
    else:
        unit.emit(
            OfferLapsed(
                seat_id=seat_id,
                session_id=session.session_id,
                member_id=booking.member_id,
                course_title=session.course_title,
            ),
            key=key,
        )
    await _free_seat(unit, terms, session, now)
    return 1


# Steps -------------------------------------------------------------------------------------------


class SeatGone(Exception):
    """The seat the request was to hold went to another request meanwhile (or the session
    closed): what the transaction wrote must go with it, and the request be asked again."""


async def asked_again_if_gone(attempt: Callable[[], Awaitable[Answer]]) -> Answer:
    """`attempt` (a request in a transaction, or in a savepoint of one), once more while the
    seat it was to hold went to another request meanwhile; a few times at most."""
    for _ in range(SEAT_GONE_TRIES - 1):
        try:
            return await attempt()
        except SeatGone:
            pass
    try:
        return await attempt()
    except SeatGone:
        raise Refused("the session changed meanwhile: ask again") from None


async def _hold(
    unit: Unit, session: CourseSession, member_id: uuid.UUID, now: datetime, request: Request
) -> Answer:
    """A seat held, with the request's answer. The whole burst contends for the session's
    row, so the seat is taken by the transaction's last statement, after the booking, the
    answer and the events are written: the row stays locked for the commit alone."""
    due = rules.hold_deadline(now, session.starts_at, session.hold_seconds)
    booking = _booking(session, member_id, "held", now, due_at=due)
    await _insert(unit, booking)
    answer = _held(unit, session, booking, due)
    await _answered(unit, request, answer)
    await unit.write_events()
    if not await _take(unit, session, now):
        raise SeatGone
    return answer


async def _from_waitlist_to_seat(
    unit: Unit, session: CourseSession, booking: Booking, now: datetime
) -> Answer | None:
    """A waitlisted member asking again gets a seat that is on sale (freed when no offers are
    made any more) rather than their place in the queue."""
    if not await _take(unit, session, now):
        return None
    due = rules.hold_deadline(now, session.starts_at, session.hold_seconds)
    if not await move(unit, booking, "waiting", "held", now, due_at=due):
        raise Refused("the booking changed meanwhile: ask for it again")
    await _leave_waitlist(unit, session.session_id)
    return _held(unit, session, booking, due)


def _held(unit: Unit, session: CourseSession, booking: Booking, due: datetime) -> Answer:
    unit.emit(
        SeatHeld(
            seat_id=booking.seat_id,
            session_id=session.session_id,
            course_id=session.course_id,
            member_id=booking.member_id,
            hold_until=due,
        ),
        key=str(session.session_id),
    )
    return Answer.of(booking)


async def _take(unit: Unit, session: CourseSession, now: datetime) -> bool:
    """One more seat of the session taken, if one is free; the first time the last one goes,
    the session is sold out."""
    taken = (await _core(unit, _TAKE, {"the_session": session.session_id})).scalar_one_or_none()
    if taken is None:
        return False
    if taken == session.capacity:
        await mark_sold_out(unit, session, now)
    return True


async def mark_sold_out(unit: Unit, session: CourseSession, now: datetime) -> None:
    first = (
        await unit.session.execute(
            update(CourseSession)
            .where(
                CourseSession.session_id == session.session_id, CourseSession.sold_out_at.is_(None)
            )
            .values(sold_out_at=now)
            .returning(CourseSession.session_id)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one_or_none()
    if first is not None:
        unit.emit(
            SessionSoldOut(
                session_id=session.session_id,
                course_id=session.course_id,
                course_title=session.course_title,
                region_code=session.region_code,
                capacity=session.capacity,
                opened_at=session.opens_at,
                sold_out_at=now,
            ),
            key=str(session.session_id),
        )


async def _join_waitlist(
    unit: Unit, session: CourseSession, member_id: uuid.UUID, now: datetime
) -> Answer | None:
    position = (
        await _core(unit, _JOIN_WAITLIST, {"the_session": session.session_id})
    ).scalar_one_or_none()
    if position is None:
        return None
    booking = _booking(session, member_id, "waiting", now, position=position)
    await _insert(unit, booking)
    unit.emit(
        WaitlistJoined(
            seat_id=booking.seat_id,
            session_id=session.session_id,
            member_id=member_id,
            position=position,
        ),
        key=str(session.session_id),
    )
    return Answer.of(booking)


async def _free_seat(unit: Unit, terms: SeatTerms, session: CourseSession, now: datetime) -> None:
    """A seat of the session was given up: offered to the first on the waitlist, or back on
    sale. An offer keeps the seat taken, so nobody else can take it meanwhile."""
    await offers.offer(WaitlistOffering(terms, now), unit, session)


class WaitlistOffering:
    """The shared offer machine (`servicekit.offers`) as a freed seat uses it: offered to the
    waitlist in order (each place is asked once: a lapsed offer leaves the waitlist), and,
    when nobody waits or it is too close to the start, back on sale. A lapse ends by the sweep
    that frees the seat again."""

    def __init__(self, terms: SeatTerms, now: datetime) -> None:
        self.terms, self.now = terms, now
        self.chosen: dict[str, Booking] = {}  # by `choose`, for `offered`

    async def choose(
        self, unit: Unit, session: CourseSession, exclude: frozenset[str]
    ) -> str | None:
        if not rules.offers_allowed(self.now, session.starts_at, self.terms):
            return None
        first = (
            await unit.session.execute(
                select(Booking)
                .where(Booking.session_id == session.session_id, Booking.state == "waiting")
                .order_by(Booking.position)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
        ).scalar_one_or_none()
        if first is None or str(first.seat_id) in exclude:
            return None
        self.chosen[str(first.seat_id)] = first
        return str(first.seat_id)

    async def offered(
        self, unit: Unit, session: CourseSession, seat: str, cause: EnvelopeHead | None
    ) -> None:
        first = self.chosen.pop(seat)
        due = rules.offer_deadline(self.now, session.starts_at, self.terms)
        if not await move(unit, first, "waiting", "offered", self.now, due_at=due):
            raise Refused("the waitlist changed meanwhile")  # locked by `choose`: not expected
        await _leave_waitlist(unit, session.session_id)
        tell_offered(unit, session, first, due)

    async def nobody(self, unit: Unit, session: CourseSession, cause: EnvelopeHead | None) -> None:
        await _counter(unit, session.session_id, CourseSession.taken, -1)

    async def closed(self, unit: Unit, session: CourseSession, closing: offers.Closing) -> None:
        """Nothing to give back: the seat stays taken until it is offered or back on sale."""

    async def asked(self, unit: Unit, session: CourseSession) -> frozenset[str]:
        return frozenset()

    async def eligible(self, unit: Unit, session: CourseSession) -> frozenset[str]:
        return frozenset()


def tell_offered(unit: Unit, session: CourseSession, booking: Booking, due: datetime) -> None:
    unit.emit(
        WaitlistOffered(
            seat_id=booking.seat_id,
            session_id=session.session_id,
            member_id=booking.member_id,
            offer_until=due,
            course_title=session.course_title,
            campus=session.campus,
            starts_at=session.starts_at,
        ),
        key=str(session.session_id),
    )


async def _leave_waitlist(unit: Unit, session_id: uuid.UUID) -> None:
    await _counter(unit, session_id, CourseSession.waiting, -1)


async def _counter(
    unit: Unit, session_id: uuid.UUID, column: InstrumentedAttribute[int], by: int
) -> None:
    await unit.session.execute(
        update(CourseSession)
        .where(CourseSession.session_id == session_id)
        .values({column: column + by})
        .execution_options(synchronize_session=False)
    )


async def move(
    unit: Unit, booking: Booking, was: str, to: str, now: datetime, **also: object
) -> bool:
    """The booking's state from `was` to `to` (a deadline and `via` set with it, if given), if
    no other transaction moved it first."""
    values: dict[str, object] = {"state": to, "updated_at": now, "due_at": None, **also}
    moved = (
        await unit.session.execute(
            update(Booking)
            .where(Booking.seat_id == booking.seat_id, Booking.state == was)
            .values(values)
            .returning(Booking.seat_id)
            .execution_options(synchronize_session=False)
        )
    ).scalar_one_or_none()
    if moved is None:
        return False
    for name, value in values.items():
        set_committed_value(booking, name, value)  # written already: not dirty
    return True


def _booking(
    session: CourseSession,
    member_id: uuid.UUID,
    state: str,
    now: datetime,
    *,
    due_at: datetime | None = None,
    position: int | None = None,
) -> Booking:
    return Booking(
        due_at=due_at,
        position=position,
        seat_id=uuid.uuid4(),
        session_id=session.session_id,
        scope_key=session.scope_key,
        member_id=member_id,
        state=state,
        created_at=now,
        updated_at=now,
    )


async def _insert(unit: Unit, booking: Booking) -> None:
    """A new booking as a plain row: the ORM's unit of work costs more than it gives here."""
    await _core(unit, _BOOKED, {name: getattr(booking, name) for name in _BOOKING_COLUMNS})


async def _core(unit: Unit, statement: Executable, values: dict[str, Any]) -> CursorResult[Any]:
    """A Core statement on the unit's connection, past the ORM's layer."""
    connection = await unit.session.connection()
    return await connection.execute(statement, values)


# Reads ------------------------------------------------------------------------------------------


async def active_member(unit: Unit, member_id: uuid.UUID) -> Member:
    member = await unit.session.get(Member, member_id)
    if member is None or not member.active:
        raise NotEligible("seats are for active members of the union")
    return member


async def find_session(unit: Unit, session_id: uuid.UUID) -> CourseSession:
    return await found(unit.session, CourseSession, session_id, "session")


async def known_to_session(unit: Unit, session_id: uuid.UUID) -> list[uuid.UUID]:
    """Whom Postgres knows for the session: those it answered, and those with a live booking
    in the session's scope."""
    session = await find_session(unit, session_id)
    answered = select(SeatRequest.member_id).where(SeatRequest.session_id == session_id)
    booked = select(Booking.member_id).where(
        Booking.scope_key == session.scope_key, Booking.state.in_(LIVE)
    )
    return list(await unit.session.scalars(answered.union(booked)))


async def still_full(unit: Unit, session_ids: list[uuid.UUID], now: datetime) -> set[uuid.UUID]:
    """Those of the sessions that would still answer a newcomer "sold out": open, not started,
    every seat taken and the waitlist full."""
    c = CourseSession
    return set(
        await unit.session.scalars(
            select(c.session_id).where(
                c.session_id.in_(session_ids),
                c.status == "open",
                c.starts_at > now,
                c.taken >= c.capacity,
                c.waiting >= c.waitlist_cap,
            )
        )
    )


async def _own_booking(unit: Unit, member_id: uuid.UUID, seat_id: uuid.UUID) -> Booking:
    booking = await found(unit.session, Booking, seat_id, "booking")
    if booking.member_id != member_id:
        raise NotFound("no such booking")
    return booking
